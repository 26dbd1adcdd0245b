"""Account summary for a verified customer: what is owed and when, read from the billing core."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.billing import lookup
from bot.dialogue.replies import balance_summary
from actions.guard import BillingAction


class ActionAccountSummary(BillingAction):
    def name(self) -> Text:
        return "action_account_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        account = tracker.get_slot("account_number")
        if not tracker.get_slot("verified") or not account:
            dispatcher.utter_message(
                text="I couldn't confirm the account, so I can't share its details here. "
                "You can reach a billing specialist at 1-800-555-0142 (Mon–Fri, 8am–8pm)."
            )
            return []
        balance = lookup.get_balance(account)
        dispatcher.utter_message(text=balance_summary(tracker.get_slot("customer_name") or "", balance))
        dispatcher.utter_message(text="Is there anything else about your bill I can help with?")
        return []
