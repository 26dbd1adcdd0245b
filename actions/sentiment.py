"""Carry the NLU sentiment of each customer message into slots (run by action_extract_slots every turn).

The sentiment component (bot.nlu.sentiment) puts `{"label", "score", "tone"}` on each parsed message;
slots make it usable in conditional response variations and by other actions.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guard import BillingAction
from bot.nlu.sentiment.slots import ACTION_NAME, sentiment_slots


class ActionReadSentiment(BillingAction):
    """The same slots the Rasa server fills in-process every turn (bot.runtime.local_actions)."""

    def name(self) -> Text:
        return ACTION_NAME

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        return [SlotSet(slot, value) for slot, value in sentiment_slots(tracker.latest_message).items()]
