"""Verify the customer before any account detail.

On the website a signed login token (bot.channels.customer_token) verifies the customer; on SMS the
phone number on file (only when the message really came through the Twilio channel); otherwise two
factors in the chat: account or invoice number plus email or postal code.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.billing import lookup
from bot.billing.dates import utcnow
from bot.billing.interactions import record_verification_failure, verification_failures
from bot.escalation import load_config
from bot.escalation.lockout import lockout_status
from bot.billing.dto import CustomerDTO
from bot.channels import customer_token
from bot.channels.twilio_sms import CHANNEL_NAME as SMS_CHANNEL
from bot.dialogue.identifiers import credentials_from_entities
from bot.dialogue.replies import first_name
from actions.guard import BillingAction

FORM = "verify_form"
IDENTIFIER = "verify_identifier"
FACTOR = "verify_factor"
# What a verified form leaves in the factor slot: the email or postal code itself is not kept.
CHECKED = "checked"
# After this many mismatches the form stops asking (the escalation rule takes over from there).
MAX_FAILURES = 3
# Intents that are a digression, not an answer: the form rejects them so rules can respond.
DIGRESSIONS = {"greet", "goodbye", "thank", "bot_challenge", "out_of_scope", "complain", "request_human"}


class ValidateVerifyForm(BillingAction):
    """Extracts the identifier and the second factor from each answer and checks them together."""

    def name(self) -> Text:
        return "validate_verify_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        message = tracker.latest_message or {}
        trusted = trusted_customer(tracker)
        if trusted is not None:
            return _verified(dispatcher, trusted, how=trusted_how(tracker))
        if (message.get("intent") or {}).get("name") in DIGRESSIONS:
            return []  # nothing extracted: Rasa rejects the form step and a rule answers
        locked = _locked_out(tracker)
        if locked:
            dispatcher.utter_message(text=locked)
            return [SlotSet(IDENTIFIER, "unverified"), SlotSet(FACTOR, "unverified")]

        offered = credentials_from_entities(message.get("entities") or [])
        identifier = offered.identifier or tracker.get_slot(IDENTIFIER)
        factor = offered.factor or tracker.get_slot(FACTOR)
        requested = tracker.get_slot("requested_slot")

        if offered.empty:
            if requested is None:
                return []  # the message that started the form; the form asks next
            dispatcher.utter_message(text=_not_found_hint(requested))
            return [SlotSet(requested or IDENTIFIER, None)]
        if not (identifier and factor):
            return [SlotSet(IDENTIFIER, identifier), SlotSet(FACTOR, factor)]

        customer = lookup.verify(identifier, factor)
        if customer is not None:
            return _verified(dispatcher, customer)
        return _mismatch(dispatcher, tracker)


def _latest_metadata(tracker: Tracker) -> Dict[Text, Any]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            metadata = event.get("metadata")
            return metadata if isinstance(metadata, dict) else {}
    return {}


def trusted_how(tracker: Tracker) -> Text:
    return "sms" if tracker.get_latest_input_channel() == SMS_CHANNEL else "web"


def trusted_customer(tracker: Tracker) -> Optional[CustomerDTO]:
    """The customer a valid website login token names, or the one customer with the SMS sender's number."""
    metadata = _latest_metadata(tracker)
    account = customer_token.account_from(metadata.get(customer_token.METADATA_KEY))
    if account:
        return lookup.get_customer_by_account(account)
    phone = metadata.get("phone")
    if tracker.get_latest_input_channel() == SMS_CHANNEL and isinstance(phone, str):
        matches = lookup.find_customers_by_phone(phone)
        if len(matches) == 1:  # a number shared by two accounts proves neither
            return matches[0]
    return None


def _verified(dispatcher: CollectingDispatcher, customer: CustomerDTO, how: Optional[Text] = None) -> List[EventType]:
    if how == "web":
        text = f"Thanks, {first_name(customer.name)} — you're signed in, so I can look at your account right away."
    elif how == "sms":
        text = f"Thanks, {first_name(customer.name)} — I recognise this number, so I can look at your account."
    else:
        text = f"Thank you, {first_name(customer.name)} — you're verified."
    dispatcher.utter_message(text=text)
    return [
        SlotSet(IDENTIFIER, customer.account_number),
        SlotSet(FACTOR, CHECKED),
        SlotSet("verified", True),
        SlotSet("account_number", customer.account_number),
        SlotSet("customer_name", customer.name),
    ]


def _not_found_hint(requested: Optional[Text]) -> Text:
    if requested == FACTOR:
        return "I couldn't spot an email address or a 5-digit postal code in that — could you type it again?"
    return (
        "I couldn't spot an account number (ACC-1234) or an invoice number (INV-0123) in that — "
        "could you check it and type it again?"
    )


def _failure_window_start() -> "datetime":
    cfg = load_config().verification
    return utcnow() - timedelta(minutes=cfg.failure_window_minutes + cfg.lockout_minutes)


def _locked_out(tracker: Tracker) -> Optional[Text]:
    """The refusal to give while this sender is locked out after repeated failures, else None."""
    try:
        failures = verification_failures(tracker.sender_id, _failure_window_start())
    except Exception:  # noqa: BLE001 - an unreadable log must not lock everyone out
        return None
    status = lockout_status(failures, utcnow())
    if not status.locked or status.until is None:
        return None
    minutes = max(1, int((status.until.replace(tzinfo=None) - utcnow()).total_seconds() // 60) + 1)
    return (f"For your security I can't check account details from this conversation for the next {minutes} "
            "minutes, after several details that didn't match. You can also reach a billing specialist at "
            "1-800-555-0142 (Mon–Fri, 8am–8pm).")


def _mismatch(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    try:
        record_verification_failure(tracker.sender_id, tracker.sender_id,
                                    tracker.get_latest_input_channel() or "rest")
    except Exception:  # noqa: BLE001 - the conversation goes on; the slot still counts
        pass
    failures = int(tracker.get_slot("verification_failures") or 0) + 1
    events: List[EventType] = [SlotSet("verification_failures", float(failures))]
    if failures >= MAX_FAILURES:
        dispatcher.utter_message(
            text="I'm sorry — those details still don't match our records, so I can't open the account here."
        )
        # Both slots filled ends the form; `verified` stays false.
        return events + [SlotSet(IDENTIFIER, "unverified"), SlotSet(FACTOR, "unverified")]
    dispatcher.utter_message(
        text="Sorry, those details don't match what we have on file. Let's try once more — "
        "please check the account or invoice number."
    )
    return events + [SlotSet(IDENTIFIER, None), SlotSet(FACTOR, None)]
