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

TONES = ("calm", "frustrated", "angry")


class ActionReadSentiment(BillingAction):
    def name(self) -> Text:
        return "action_read_sentiment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        sentiment = (tracker.latest_message or {}).get("sentiment") or {}
        tone = sentiment.get("tone")
        score = sentiment.get("score")
        if tone not in TONES or not isinstance(score, (int, float)):
            return []
        return [SlotSet("tone", tone), SlotSet("sentiment_score", max(-1.0, min(1.0, float(score))))]
