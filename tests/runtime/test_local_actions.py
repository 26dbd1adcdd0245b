"""The sentiment slots are filled by the Rasa server itself every turn, exactly as the action would."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import bot.runtime  # noqa: F401  installs the local actions, as endpoints.yml does in the server
from actions.sentiment import ActionReadSentiment
from bot.runtime import local_actions

DOMAIN = Domain.load("bot/domain")


def tracker_with(parse_extra: Dict[str, Any]) -> DialogueStateTracker:
    parse = {"intent": {"name": "complain", "confidence": 0.9}, "entities": [], **parse_extra}
    return DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"),
                                                  UserUttered("THIS IS A JOKE", parse["intent"], [], parse)],
                                            DOMAIN.slots)


def extract(tracker: DialogueStateTracker) -> List:
    # an action server nobody listens on: any remote call would fail and fill nothing
    action = ActionExtractSlots(EndpointConfig("http://127.0.0.1:9/webhook"))
    return asyncio.run(action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses),
                                  tracker, DOMAIN))


def test_tone_and_score_are_set_without_the_action_server() -> None:
    events = extract(tracker_with({"sentiment": {"label": "negative", "score": -0.82, "tone": "angry"}}))
    assert SlotSet("tone", "angry") in events
    assert SlotSet("sentiment_score", -0.82) in events


def test_no_sentiment_sets_nothing() -> None:
    events = extract(tracker_with({}))
    assert not [e for e in events if isinstance(e, SlotSet) and e.key in ("tone", "sentiment_score")]


@pytest.mark.parametrize("sentiment", [
    {"label": "negative", "score": -3.0, "tone": "frustrated"},
    {"label": "neutral", "score": 0.1, "tone": "calm"},
    {"label": "positive", "score": 0.9, "tone": "not a tone"},
    {"label": "neutral", "score": "0.1", "tone": "calm"},
])
def test_the_server_fills_what_the_action_would(sentiment: Dict[str, Any]) -> None:
    tracker = tracker_with({"sentiment": sentiment})
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    sdk_tracker = Tracker.from_dict(tracker.current_state())
    by_action = asyncio.run(ActionReadSentiment().run(CollectingDispatcher(), sdk_tracker, {}))
    here = local_actions.read_sentiment(tracker)
    assert [(e.key, e.value) for e in here] == [(e["name"], e["value"]) for e in by_action]
    if sentiment["score"] == -3.0:
        assert SlotSet("sentiment_score", -1.0) in here  # clipped to the slot's range
