"""Shared helpers of the dispute actions: stages, offers kept in slots, the handoff, the CSAT question.

Thin glue only: the decisions and the wording come from bot.dialogue.cases and bot.escalation.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.billing.dates import utcnow
from bot.agents.accounts import agents_online
from bot.billing.handoffs import count_waiting, create_handoff
from bot.billing.interactions import log_interaction
from bot.dialogue.cases import Offer
from bot.escalation import context_packet, handoff_promise, load_config, state_from_events
from bot.escalation import packet as packets
from bot.escalation.rule import Decision as EscalationDecision

logger = logging.getLogger(__name__)

# Values of the `stage` slot (the only dispute slot the dialogue policies see).
CHOOSING, CONFIRMING, RATING, COMMENTING = "choosing", "confirming", "rating", "commenting"

CASE_INTENTS = (
    "dispute_charge", "charged_twice", "request_refund", "ask_invoice", "ask_balance",
    "request_payment_plan", "make_payment", "refund_status",
)
# Intents answered in the middle of a dispute without closing it.
SIDE_QUESTIONS = ("ask_balance", "refund_status")

ANYTHING_ELSE = "Is there anything else about your bill I can help with?"
CSAT_QUESTION = "Before you go: how would you rate this chat, from 1 (poor) to 5 (great)?"


def latest_intent(tracker: Tracker) -> Optional[Text]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> Text:
    return (tracker.latest_message or {}).get("text") or ""


def entity(tracker: Tracker, name: Text) -> Optional[Any]:
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == name and item.get("value") not in (None, ""):
            return item.get("value")
    return None


def stored_offers(tracker: Tracker) -> List[Offer]:
    offers = []
    for raw in tracker.get_slot("offers") or []:
        try:
            offers.append(Offer.from_dict(raw))
        except (KeyError, TypeError, ValueError):  # a malformed slot value is ignored, never trusted
            logger.warning("ignoring a malformed offer in the offers slot")
    return offers


def pending_offer(tracker: Tracker) -> Optional[Offer]:
    raw = tracker.get_slot("pending_offer")
    if not isinstance(raw, Mapping):
        return None
    try:
        return Offer.from_dict(raw)
    except (KeyError, TypeError, ValueError):
        return None


def buttons_for(offers: Sequence[Offer]) -> List[Dict[Text, Text]]:
    return [{"title": o.title, "payload": '/inform{"offer_id": "%s"}' % o.id} for o in offers]


YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
CSAT_BUTTONS = [{"title": str(n), "payload": '/inform{"csat": %d}' % n} for n in range(1, 6)]


def ask_csat(dispatcher: CollectingDispatcher) -> List[EventType]:
    dispatcher.utter_message(text=CSAT_QUESTION, buttons=CSAT_BUTTONS)
    return [SlotSet("stage", RATING)]


def log_bot(tracker: Tracker, text: Text, details: Optional[Mapping[str, Any]] = None) -> None:
    """A bot message of record in the billing core's interaction log (never breaks the conversation)."""
    try:
        log_interaction(conversation_id=tracker.sender_id, actor="bot", text=text,
                        account_number=tracker.get_slot("account_number") if tracker.get_slot("verified") else None,
                        details=details)
    except Exception:  # noqa: BLE001 - logging must not stop the reply
        logger.exception("could not log the interaction")


def log_customer(tracker: Tracker, details: Optional[Mapping[str, Any]] = None) -> None:
    try:
        log_interaction(conversation_id=tracker.sender_id, actor="customer", text=latest_text(tracker),
                        account_number=tracker.get_slot("account_number") if tracker.get_slot("verified") else None,
                        details=details)
    except Exception:  # noqa: BLE001
        logger.exception("could not log the interaction")


def escalation_state(tracker: Tracker, **overrides: Any):
    slots = dict(tracker.current_slot_values())
    slots.update(overrides)
    return state_from_events(tracker.events, slots)


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    decision: EscalationDecision,
    *,
    state: Any = None,
    lead: Optional[Text] = None,
    case_context: Optional[Mapping[str, Any]] = None,
    summary: Optional[Text] = None,
) -> List[EventType]:
    """Create the handoff with the context packet, tell the customer what happens next, pause."""
    state = state if state is not None else escalation_state(tracker)
    packet = context_packet(state, decision)
    packet["conversation_id"] = tracker.sender_id
    packet["verified"] = bool(tracker.get_slot("verified"))
    packet["case_intent"] = tracker.get_slot("case_intent")
    packet["offers_made"] = [o.id for o in stored_offers(tracker)]
    if case_context:
        packet["case"] = dict(case_context)
    account = tracker.get_slot("account_number") if tracker.get_slot("verified") else None
    # The verified customer, their invoices and the ledger's findings, the transcript, a next step:
    # the agent starts where the bot stopped and the customer never repeats themselves.
    packet.update(packets.account_snapshot(account))
    packet["transcript"] = packets.transcript(tracker.events)
    packet["channel"] = packets.latest_channel(tracker.events) or tracker.get_latest_input_channel()
    packet["suggested_next_step"] = packets.next_step(decision.reason_code)
    online, waiting = _availability()
    handoff = create_handoff(conversation_id=tracker.sender_id, reason_code=decision.handoff_reason or "other",
                             context=packet, account_number=account,
                             summary=summary or decision.explanation or None)
    promise = handoff_promise(utcnow(), online, waiting, ticket=handoff.reference)
    parts = [p for p in (lead, decision.customer_message, promise.text) if p]
    text = " ".join(parts)
    if handoff.reference not in text:
        text += f" Your reference is {handoff.reference}."
    dispatcher.utter_message(text=text)
    log_bot(tracker, text, {"kind": "handoff", "reference": handoff.reference, "reason": decision.reason_code})
    return [SlotSet("handoff_reference", handoff.reference), SlotSet("stage", None), ConversationPaused()]


def _availability() -> tuple:
    """Agents online and handoffs already waiting (for the promised wait); none known -> a callback."""
    try:
        return agents_online(), count_waiting()
    except Exception:  # noqa: BLE001 - a promise of a callback is still honest
        logger.exception("could not read agent availability")
        return 0, 0


def forced_decision(reason_code: Text, handoff_reason: Text, explanation: Text) -> EscalationDecision:
    """An escalation decided by the dispute case (e.g. above authority) in the escalation rule's terms."""
    message = load_config().reasons.get(reason_code)
    message = message.customer_message if message is not None else None
    return EscalationDecision(escalate=True, reason_code=reason_code, explanation=explanation,
                              customer_message=message, handoff_reason=handoff_reason, fired=(reason_code,))


_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "eighteen": 18, "twenty-four": 24}


def months_in(text: Text) -> Optional[int]:
    """"over 3 months", "6 payments", "twelve months" -> the number; None without one."""
    low = text.lower()
    match = re.search(r"\b(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")\s*(?:monthly\s+)?(?:months?|payments?|instal?lments?)\b",
                      low)
    if not match:
        return None
    word = match.group(1)
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def plain_number(text: Text) -> Optional[int]:
    match = re.fullmatch(r"\s*(\d)\s*(?:/\s*5|stars?|out of 5)?\s*[.!]?\s*", text.lower())
    return int(match.group(1)) if match else None


def ids(offers: Iterable[Offer]) -> List[Text]:
    return [o.id for o in offers]
