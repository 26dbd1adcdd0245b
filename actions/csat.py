"""Closing: a 1-5 satisfaction rating and an optional comment, stored in the interaction log.

The billing core has no CSAT table; the rating is stored with `log_interaction` as a customer row
with text "CSAT <n>: <comment>" and details {"kind": "csat", "score": n, "comment": ...}.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.billing.interactions import log_interaction
from actions.common import COMMENTING, CSAT_BUTTONS, RATING, ask_csat, entity, latest_intent, latest_text, \
    plain_number
from actions.guard import BillingAction

ASK_COMMENT = "Thank you! Anything you'd like to tell us about this chat? (Or just say no.)"
THANKS = "Thanks for your feedback, and for contacting Northwind Broadband. Take care!"
GOODBYE = "Thanks for contacting Northwind Broadband. Take care!"


def rating(tracker: Tracker) -> Optional[int]:
    raw = entity(tracker, "csat")
    try:
        value = int(float(raw)) if raw is not None else plain_number(latest_text(tracker))
    except (TypeError, ValueError):
        value = None
    return value if value is not None and 1 <= value <= 5 else None


def store(tracker: Tracker, score: int, comment: Optional[Text]) -> None:
    text = f"CSAT {score}" + (f": {comment}" if comment else "")
    log_interaction(conversation_id=tracker.sender_id, actor="customer", text=text,
                    account_number=tracker.get_slot("account_number") if tracker.get_slot("verified") else None,
                    details={"kind": "csat", "score": score, "comment": comment})


class ActionCsat(BillingAction):
    def name(self) -> Text:
        return "action_csat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        stage = tracker.get_slot("stage")
        if stage == RATING:
            score = rating(tracker)
            if score is not None:
                dispatcher.utter_message(text=ASK_COMMENT)
                return [SlotSet("csat", float(score)), SlotSet("stage", COMMENTING)]
            if latest_intent(tracker) in ("deny", "goodbye", "thank"):
                dispatcher.utter_message(text=GOODBYE)
                return [SlotSet("stage", None)]
            dispatcher.utter_message(text="Just a number from 1 to 5, please.", buttons=CSAT_BUTTONS)
            return []
        if stage == COMMENTING:
            score = int(tracker.get_slot("csat") or 0)
            comment = None if latest_intent(tracker) == "deny" else latest_text(tracker).strip() or None
            if score:
                store(tracker, score, comment)
            dispatcher.utter_message(text=THANKS)
            return [SlotSet("stage", None)]
        return ask_csat(dispatcher)
