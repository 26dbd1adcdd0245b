"""Applied events resumed from the last call give exactly what Rasa computes from the first event."""
from __future__ import annotations

from typing import List

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

import bot.runtime  # noqa: F401  installs it, as endpoints.yml does in the server
from bot.runtime import applied_events
from tests.runtime.test_states_cache import TRACKERS

DOMAIN = Domain.load("bot/domain")


def rasas(tracker: DialogueStateTracker) -> List[Event]:
    return applied_events._ORIGINAL(tracker)


def user(text: str, intent: str = "inform") -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 1.0})


def edge_events() -> List[Event]:
    """Reverts, a rejected form, a second form name appearing late, a restart, a new session."""
    return [
        ActionExecuted("action_listen"), user("hi", "greet"), ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"), user("you charged me twice", "charged_twice"),
        ActionExecuted("verify_form"), ActiveLoop("verify_form"), SlotSet("requested_slot", "identifier"),
        ActionExecuted("action_listen"), user("INV-0142"), ActionExecuted("verify_form"),
        ActionExecuted("action_listen"), user("what?", "out_of_scope"),
        ActionExecutionRejected("verify_form"), ActionExecuted("utter_default"), ActionExecuted("verify_form"),
        ActionExecuted("action_listen"), user("oops"), UserUtteranceReverted(),
        ActionExecuted("action_listen"), user("94110"), ActionExecuted("verify_form"), ActionReverted(),
        ActionExecuted("verify_form"), ActiveLoop(None), SlotSet("requested_slot", None),
        ActionExecuted("other_form"), ActiveLoop("other_form"), ActionExecuted("action_listen"), user("x"),
        ActionExecuted("other_form"), ActionExecuted("verify_form"), ActiveLoop(None),
        Restarted(), ActionExecuted("action_listen"), user("hello again", "greet"),
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        user("bye", "goodbye"), ActionExecuted("utter_goodbye"),
    ]


def test_equal_to_rasas_after_every_event_of_every_story_and_rule() -> None:
    """What a turn does: ask, add the next event, ask again - the fold resumes."""
    checked = 0
    for story in [*TRACKERS, DialogueStateTracker.from_events("edges", edge_events(), DOMAIN.slots)]:
        growing = DialogueStateTracker(story.sender_id, DOMAIN.slots)
        for event in story.events:
            growing.update(event)
            expected = rasas(growing)
            got = growing.applied_events()
            assert [id(e) for e in got] == [id(e) for e in expected]  # the same event objects, in order
            checked += 1
    assert checked > 500


def test_the_fold_resumes_instead_of_starting_again() -> None:
    story = max(TRACKERS, key=lambda t: len(t.events))
    growing = DialogueStateTracker(story.sender_id, DOMAIN.slots)
    events = list(story.events)
    for event in events[:-1]:
        growing.update(event)
    growing.applied_events()
    fold = growing.__dict__[applied_events.FOLD_ATTRIBUTE]
    growing.update(events[-1])
    growing.applied_events()
    assert growing.__dict__[applied_events.FOLD_ATTRIBUTE] is fold and len(fold.seen) == len(events)


def test_a_form_name_that_appears_late_refolds_from_the_start() -> None:
    """Rasa folds every event with the form names of the whole tracker: an earlier execution of an
    action that only later turns out to be a form is folded differently."""
    events = [ActionExecuted("action_listen"), user("a"), ActionExecuted("late_form"),
              ActionExecuted("action_listen"), user("b"), ActionExecuted("late_form")]
    tracker = DialogueStateTracker.from_events("late", events, DOMAIN.slots)
    assert tracker.applied_events() == rasas(tracker)
    tracker.update(ActiveLoop("late_form"))
    assert [id(e) for e in tracker.applied_events()] == [id(e) for e in rasas(tracker)]
    assert len(rasas(tracker)) < len(tracker.events)  # the late name changed the earlier fold


def test_callers_get_their_own_list_and_copies_their_own_fold() -> None:
    tracker = DialogueStateTracker.from_events("own", edge_events()[:12], DOMAIN.slots)
    first = tracker.applied_events()
    first.clear()
    assert tracker.applied_events() == rasas(tracker) != []
    copy = tracker.copy()
    applied_events.carry_over(tracker, copy)
    copy.update(user("only in the copy"))
    assert copy.applied_events() == rasas(copy)
    assert tracker.applied_events() == rasas(tracker) and len(tracker.applied_events()) == len(copy.applied_events()) - 1


def test_events_replaced_in_place_are_folded_again() -> None:
    tracker = DialogueStateTracker.from_events("replaced", edge_events()[:12], DOMAIN.slots)
    tracker.applied_events()
    tracker.events.pop()
    tracker.events.append(user("a different last message"))
    assert [id(e) for e in tracker.applied_events()] == [id(e) for e in rasas(tracker)]
