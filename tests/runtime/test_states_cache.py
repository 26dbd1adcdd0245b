"""Dialogue states computed once per tracker version give exactly what Rasa computes each time."""
from __future__ import annotations

from typing import List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph

import bot.runtime  # noqa: F401  installs the cache, as endpoints.yml does in the server
from bot.runtime import states_cache

DOMAIN = Domain.load("bot/domain")
RULE_ONLY = {"slots": ["stage"], "loops": ["verify_form"]}


def story_trackers() -> List[DialogueStateTracker]:
    steps = YAMLStoryReader(DOMAIN).read_from_file("data/stories.yml")
    steps += YAMLStoryReader(DOMAIN).read_from_file("data/rules.yml")
    trackers = TrainingDataGenerator(StoryGraph(steps), DOMAIN, augmentation_factor=0,
                                     remove_duplicates=False).generate()
    assert len(trackers) > 20
    # plain trackers, as the server has (the generator's own trackers cache states their own way)
    return [DialogueStateTracker.from_events(t.sender_id, list(t.events), DOMAIN.slots) for t in trackers]


TRACKERS = story_trackers()


@pytest.mark.parametrize("omit,ignore,rule_only", [(False, False, None), (False, True, RULE_ONLY),
                                                   (True, False, RULE_ONLY)])
def test_states_equal_rasas_for_every_story_and_rule(omit: bool, ignore: bool, rule_only) -> None:
    for tracker in TRACKERS:
        expected = states_cache._ORIGINAL(tracker, DOMAIN, omit, ignore, rule_only)
        assert tracker.past_states(DOMAIN, omit, ignore, rule_only) == expected  # computed
        assert tracker.past_states(DOMAIN, omit, ignore, rule_only) == expected  # from the cache


def test_a_caller_editing_its_states_does_not_change_the_next_callers() -> None:
    tracker = max(TRACKERS, key=lambda t: len(t.events))
    first = tracker.past_states(DOMAIN)
    expected = states_cache._ORIGINAL(tracker, DOMAIN)
    first[-1].clear()
    for state in first:
        for sub in state.values():
            sub.clear()
    assert tracker.past_states(DOMAIN) == expected


def test_a_new_event_gives_new_states() -> None:
    tracker = DialogueStateTracker.from_events("s", [ActionExecuted("action_listen"),
                                                    UserUttered("hi", {"name": "greet", "confidence": 1.0})],
                                               DOMAIN.slots)
    before = tracker.past_states(DOMAIN)
    tracker.update(ActionExecuted("utter_greet"))
    after = tracker.past_states(DOMAIN)
    assert after == states_cache._ORIGINAL(tracker, DOMAIN) and after != before
    tracker.update(SlotSet("verified", True))
    tracker.update(ActionExecuted("action_listen"))
    assert tracker.past_states(DOMAIN) == states_cache._ORIGINAL(tracker, DOMAIN)


@pytest.mark.parametrize("omit,ignore,rule_only", [(False, False, None), (False, True, RULE_ONLY),
                                                   (True, False, RULE_ONLY)])
def test_states_built_event_by_event_equal_rasas_after_every_event(omit: bool, ignore: bool, rule_only) -> None:
    """What a turn does: predict, add the action's events, predict again - the replay resumes."""
    for story in TRACKERS:
        growing = DialogueStateTracker(story.sender_id, DOMAIN.slots)
        for event in story.events:
            growing.update(event)
            assert growing.past_states(DOMAIN, omit, ignore, rule_only) == \
                states_cache._ORIGINAL(growing, DOMAIN, omit, ignore, rule_only)


def test_the_replay_resumes_instead_of_starting_again() -> None:
    story = max(TRACKERS, key=lambda t: len(t.events))
    growing = DialogueStateTracker(story.sender_id, DOMAIN.slots)
    replays = []
    original_init = states_cache._Replay.__init__

    def counting_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        replays.append(1)
        original_init(self, *args, **kwargs)

    states_cache._Replay.__init__ = counting_init  # type: ignore[method-assign]
    try:
        for event in story.events:
            growing.update(event)
            growing.past_states(DOMAIN)
    finally:
        states_cache._Replay.__init__ = original_init  # type: ignore[method-assign]
    assert len(story.events) > 20 and len(replays) < len(story.events) / 2
