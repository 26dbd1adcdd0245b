"""A tracker copied without replaying its events equals Rasa's replayed copy, and is independent."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    Restarted,
    SlotSet,
    UserUttered,
    UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.runtime import tracker_copy
from tests.runtime.test_states_cache import DOMAIN, TRACKERS


def state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    return {
        "current": tracker.current_state(EventVerbosity.ALL),
        "events": [id(e) for e in tracker.events],
        "slots": {name: (type(slot), dict(slot.__dict__)) for name, slot in tracker.slots.items()},
        "attributes": {key: value for key, value in vars(tracker).items()
                       if key not in ("events", "slots") and not key.startswith("_northwind_")},
        "maxlen": tracker.events.maxlen,
    }


def edge_trackers() -> List[DialogueStateTracker]:
    """Reverts, restarts, pauses, follow-ups and loops: events that replay or reset the state."""
    user = lambda text, intent: UserUttered(text, {"name": intent, "confidence": 1.0})  # noqa: E731
    events = [
        ActionExecuted(ACTION_LISTEN_NAME), user("charged twice", "charged_twice"), SlotSet("customer_name", "Liam"),
        ActionExecuted("verify_form"), ActiveLoop("verify_form"), SlotSet("requested_slot", "account_number"),
        BotUttered("Which account?"), ActionExecuted(ACTION_LISTEN_NAME), user("ACC-1001", "inform"),
        UserUtteranceReverted(), user("no", "deny"), ActionExecuted("utter_greet"), ActionReverted(),
        FollowupAction("utter_greet"), ConversationPaused(), ConversationResumed(), ActiveLoop(None),
        SlotSet("verified", True), ActionExecuted(ACTION_LISTEN_NAME),
    ]
    out = []
    for end in range(1, len(events) + 1):
        out.append(DialogueStateTracker.from_events("edge", events[:end], DOMAIN.slots))
    restarted = DialogueStateTracker.from_events("r", [*events, Restarted(), user("hi", "greet")], DOMAIN.slots)
    bounded = DialogueStateTracker.from_events("b", events, DOMAIN.slots, max_event_history=5)
    bounded.model_id, bounded.assistant_id, bounded.sender_source = "m1", "a1", "file.yml"
    return [*out, restarted, bounded]


def test_the_copy_equals_rasas_replayed_copy_for_every_story_rule_and_edge_tracker() -> None:
    trackers = [*TRACKERS, *edge_trackers()]
    assert len(trackers) > 40
    for tracker in trackers:
        assert state(tracker_copy.fast_copy(tracker)) == state(tracker_copy._ORIGINAL(tracker))


def test_changing_the_copy_leaves_the_original_alone() -> None:
    tracker = max(TRACKERS, key=lambda t: len(t.events))
    before = state(tracker)
    clone = tracker_copy.fast_copy(tracker)
    clone.update(SlotSet("customer_name", "Someone Else"))
    clone.update(ActiveLoop("verify_form"))
    clone.update(ActionExecuted("utter_greet"))
    clone.slots["verified"].value = "tampered"
    assert state(tracker) == before
    assert len(clone.events) == len(tracker.events) + 3


def test_installed_in_the_server() -> None:
    import bot.runtime  # noqa: F401  what endpoints.yml imports

    assert DialogueStateTracker.copy is tracker_copy.fast_copy
    import rasa.shared.core.trackers

    assert rasa.shared.core.trackers.copy.copy is tracker_copy.shallow_copy  # each new tracker's slots
    tracker = DialogueStateTracker("new", DOMAIN.slots)
    for slot in DOMAIN.slots:  # its own slot objects, as copy.copy made them
        assert tracker.slots[slot.name] is not slot and tracker.slots[slot.name].__dict__ == slot.__dict__
    tracker.update(SlotSet("verified", True))
    assert [s.value for s in DOMAIN.slots if s.name == "verified"] != [True]


def test_incremental_states_equal_rasas_through_reverts_restarts_and_loops() -> None:
    from bot.runtime import states_cache
    from tests.runtime.test_states_cache import RULE_ONLY

    final = edge_trackers()[-2]  # every edge event, then a restart and a new message
    for omit, ignore, rule_only in [(False, False, None), (False, True, RULE_ONLY), (True, False, RULE_ONLY)]:
        growing = DialogueStateTracker("edge", DOMAIN.slots)
        for event in final.events:
            growing.update(event)
            assert growing.past_states(DOMAIN, omit, ignore, rule_only) == \
                states_cache._ORIGINAL(growing, DOMAIN, omit, ignore, rule_only)


def test_shallow_copy_is_copy_copy_for_every_slot_and_the_active_loop() -> None:
    import copy
    import dataclasses

    from rasa.shared.core.trackers import TrackerActiveLoop

    objects: List[Any] = [*DOMAIN.slots, TrackerActiveLoop("verify_form", False, True, {"text": "hi"})]
    assert len({type(o) for o in objects}) >= 6  # text, float, list, categorical, any, bool slots, the loop
    # Rasa's slots (under abc.ABC's empty __slots__) and the loop take the fast path
    assert all(tracker_copy._is_plain(type(o)) for o in objects)
    for original in objects:
        mine, theirs = tracker_copy.shallow_copy(original), copy.copy(original)
        assert type(mine) is type(theirs) and mine is not original
        assert mine.__dict__ == theirs.__dict__
        assert all(mine.__dict__[k] is original.__dict__[k] for k in original.__dict__)  # shallow, like copy.copy
    loop = objects[-1]
    clone = tracker_copy.shallow_copy(loop)
    clone.is_interrupted = True
    assert loop.is_interrupted is False and dataclasses.asdict(clone)["name"] == "verify_form"


def test_shallow_copy_leaves_objects_with_their_own_copy_protocol_to_copy_copy() -> None:
    class OwnCopy:
        def __init__(self) -> None:
            self.copied = False

        def __copy__(self) -> "OwnCopy":
            clone = OwnCopy()
            clone.copied = True
            return clone

    class Slotted:
        __slots__ = ("value",)

        def __init__(self) -> None:
            self.value = 1

    class WithState:
        def __init__(self) -> None:
            self.cache = [1]

        def __getstate__(self) -> Dict[str, Any]:
            return {"cache": []}

        def __setstate__(self, state: Dict[str, Any]) -> None:
            self.__dict__.update(state)

    assert tracker_copy.shallow_copy(OwnCopy()).copied is True
    assert tracker_copy.shallow_copy(Slotted()).value == 1
    assert tracker_copy.shallow_copy(WithState()).cache == []
    assert tracker_copy.shallow_copy(None) is None
