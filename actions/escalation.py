"""When the customer asks for a person, threatens legal action or stays upset: bot.escalation decides.

`action_escalate` answers `request_human`, `complain`, a message it did not understand (`nlu_fallback`)
and a "no" to the offer to keep helping. The
escalation rule (Rasa-free) says whether to hand off now, make the one offer to keep helping, or
carry on; a handoff creates the record with the context packet, promises what happens next and
pauses the conversation (ConversationPaused: Rasa sends no further bot replies).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.escalation import ESCALATION_OFFER_KEY, evaluate
from actions.common import CHOOSING, CONFIRMING, escalation_state, hand_off, latest_intent, log_bot, log_customer
from actions.guard import BillingAction

EMPATHIZE = ("I'm sorry you've had this experience — I understand how frustrating billing problems are, "
             "and I want to put it right. Could you tell me what went wrong with your bill?")
EMPATHIZE_IN_CASE = ("I'm sorry — I understand how frustrating this is, and I want to put it right. "
                     "I'm here to sort it out with you.")
KEEP_HELPING = "Sure — what's going on with your bill?"


class ActionEscalate(BillingAction):
    def name(self) -> Text:
        return "action_escalate"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        log_customer(tracker)
        state = escalation_state(tracker)
        decision = evaluate(state)
        if decision.escalate:
            return hand_off(dispatcher, tracker, decision, state=state)
        if decision.offer_first:
            dispatcher.utter_message(text=decision.customer_message, **{ESCALATION_OFFER_KEY: True})
            log_bot(tracker, decision.customer_message or "", {"kind": "escalation_offer"})
            return []
        if latest_intent(tracker) == "nlu_fallback":
            dispatcher.utter_message(response="utter_please_rephrase")
            if tracker.get_slot("stage") == CONFIRMING:
                # The "Shall I go ahead?" is no longer the last question: a later "yes" must not be
                # read as its answer, so the offer waits to be confirmed afresh.
                return [SlotSet("pending_offer", None), SlotSet("stage", CHOOSING)]
            return []
        if latest_intent(tracker) == "complain":
            text = EMPATHIZE_IN_CASE if tracker.get_slot("stage") else EMPATHIZE
            dispatcher.utter_message(text=text, acknowledgement=True)
            return []
        if tracker.get_slot("handoff_reference"):
            dispatcher.utter_message(text=f"A billing specialist already has your case "
                                     f"({tracker.get_slot('handoff_reference')}) and will be in touch.")
            return []
        dispatcher.utter_message(text=KEEP_HELPING)
        return []
