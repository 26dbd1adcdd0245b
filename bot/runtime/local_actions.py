"""Custom slot mappings that the Rasa server fills itself instead of calling the action server.

Rasa 3.6 runs ``action_extract_slots`` after every user message, and a slot with a ``custom``
mapping makes it call that mapping's action on the action server - for ``tone`` and
``sentiment_score`` (bot/domain/sentiment.yml) a full HTTP round trip per message, only to copy
the sentiment the NLU pipeline has just put on the message. Here such an action is a plain
function of the tracker, run in the Rasa process; the events are the ones the action server would
return (``actions/sentiment.py`` calls the same function), and every other custom mapping still
goes to the action server.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Text

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.sentiment.slots import ACTION_NAME as READ_SENTIMENT, sentiment_slots

LocalAction = Callable[[DialogueStateTracker], List[Event]]


def read_sentiment(tracker: DialogueStateTracker) -> List[Event]:
    return [SlotSet(slot, value) for slot, value in sentiment_slots(tracker.latest_message.parse_data).items()]


LOCAL_ACTIONS: Dict[Text, LocalAction] = {READ_SENTIMENT: read_sentiment}

_ORIGINAL = ActionExtractSlots._run_custom_action


async def run_custom_action(self: ActionExtractSlots, custom_action: Text, output_channel, nlg,  # type: ignore[no-untyped-def]
                            tracker: DialogueStateTracker, domain) -> List[Event]:
    local = LOCAL_ACTIONS.get(custom_action)
    if local is not None:
        return local(tracker)
    return await _ORIGINAL(self, custom_action, output_channel, nlg, tracker, domain)


def install() -> None:
    ActionExtractSlots._run_custom_action = run_custom_action  # type: ignore[assignment]


def uninstall() -> None:
    ActionExtractSlots._run_custom_action = _ORIGINAL  # type: ignore[assignment]


__all__ = ["LOCAL_ACTIONS", "install", "read_sentiment", "uninstall"]
