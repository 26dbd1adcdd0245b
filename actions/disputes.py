"""The dispute conversation of a verified customer: review the case, choose, confirm, execute once.

Thin rasa-sdk glue over bot.dialogue.cases (what was found, what to offer, the wording, exactly-once
execution). The `stage` slot tells the rules where the conversation is; offers live in the `offers`
slot and a choice is only accepted if it is one of them.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.dialogue import cases
from bot.escalation import evaluate
from bot.dialogue.cases import DecisionKind, Offer, OfferKind
from actions.common import (
    ANYTHING_ELSE, CASE_INTENTS, CHOOSING, CONFIRMING, SIDE_QUESTIONS, YES_NO, ask_csat, buttons_for, entity,
    escalation_state, forced_decision, hand_off, ids, latest_intent, latest_text, log_bot, log_customer,
    months_in, pending_offer, stored_offers,
)
from actions.guard import BillingAction

NOT_VERIFIED = ("I couldn't confirm the account, so I can't share its details here. "
                "You can reach a billing specialist at 1-800-555-0142 (Mon–Fri, 8am–8pm).")


def _case_message(tracker: Tracker) -> Dict[Text, Any]:
    """The latest customer message with a case intent (the one that opened this case)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name in CASE_INTENTS:
                return event.get("parse_data") or {}
    return {}


def _entity(parse: Dict[Text, Any], name: Text) -> Optional[Any]:
    values = [e.get("value") for e in parse.get("entities") or [] if e.get("entity") == name and e.get("value")]
    return values[0] if values else None


def _case_args(tracker: Tracker) -> Dict[Text, Any]:
    return {"invoice_number": tracker.get_slot("case_invoice"), "amount": tracker.get_slot("case_amount"),
            "date": tracker.get_slot("case_date")}


def _offer_state(offers: Sequence[Offer], tracker: Tracker) -> List[EventType]:
    made = list(dict.fromkeys(list(tracker.get_slot("offers_made") or []) + ids(offers)))
    return [SlotSet("offers", [o.to_dict() for o in offers]), SlotSet("offers_made", made)]


def _present(dispatcher: CollectingDispatcher, tracker: Tracker, offers: Sequence[Offer]) -> List[EventType]:
    """After the decision's messages: one offer waits for a yes; several are buttons to choose from."""
    if len(offers) == 1:
        # The case wording already ends with "Shall I go ahead?" for a single option.
        return _offer_state(offers, tracker) + [SlotSet("pending_offer", offers[0].to_dict()),
                                                SlotSet("stage", CONFIRMING)]
    return _offer_state(offers, tracker) + [SlotSet("pending_offer", None), SlotSet("stage", CHOOSING)]


class ActionReviewCase(BillingAction):
    """Looks at what the verified customer asked about and answers with the case decision."""

    def name(self) -> Text:
        return "action_review_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        account = tracker.get_slot("account_number")
        if not tracker.get_slot("verified") or not account:
            state = escalation_state(tracker)
            decision = evaluate(state)
            if decision.escalate:  # three failed verifications: a person checks identity another way
                return hand_off(dispatcher, tracker, decision, state=state)
            dispatcher.utter_message(text=NOT_VERIFIED)
            return []
        stage = tracker.get_slot("stage")
        intent = latest_intent(tracker)
        if intent in CASE_INTENTS:  # not the verification answer (an email or postal code) that preceded
            log_customer(tracker)
        if stage in (CHOOSING, CONFIRMING) and intent in SIDE_QUESTIONS:
            return self._side_question(dispatcher, tracker, account, intent)

        parse = _case_message(tracker)
        case_intent = (parse.get("intent") or {}).get("name") or "dispute_charge"
        args = {"invoice_number": _entity(parse, "invoice_number"), "amount": _entity(parse, "amount"),
                "date": _entity(parse, "date")}
        events: List[EventType] = [SlotSet("case_intent", case_intent), SlotSet("case_invoice", args["invoice_number"]),
                                   SlotSet("case_amount", args["amount"]), SlotSet("case_date", args["date"])]
        if case_intent == "refund_status":
            text = cases.refund_status(account)
            dispatcher.utter_message(text=text)
            dispatcher.utter_message(text=ANYTHING_ELSE)
            log_bot(tracker, text)
            return events + [SlotSet("stage", None)]

        decision = cases.handle(account, case_intent, **args)
        last = len(decision.messages) - 1
        for index, text in enumerate(decision.messages):
            buttons = []
            if index == last and decision.offers:
                buttons = YES_NO if len(decision.offers) == 1 else buttons_for(decision.offers)
            dispatcher.utter_message(text=text, buttons=buttons)
        log_bot(tracker, decision.text, {"kind": "case", "decision": decision.kind,
                                         "offers": ids(decision.offers)})
        if decision.kind == DecisionKind.HANDOFF or (decision.handoff_reason and not decision.offers):
            amount = decision.handoff_context.get("amount")
            events.append(SlotSet("disputed_amount", str(amount) if amount is not None else None))
            state = escalation_state(tracker, disputed_amount=amount)
            reason = "authority" if decision.handoff_reason in ("authority", "policy") else "no_resolution"
            escalation = forced_decision(reason, decision.handoff_reason_code or "other",
                                         decision.handoff_summary or "")
            review = cases.open_review(decision, conversation_id=tracker.sender_id)
            context = dict(decision.handoff_context)
            if review:
                context["dispute_reference"] = review
            # The case already said why a specialist is needed: only the promise follows.
            escalation = replace(escalation, customer_message=None)
            return events + hand_off(dispatcher, tracker, escalation, state=state, case_context=context,
                                     summary=decision.handoff_summary)
        if decision.offers:
            return events + _present(dispatcher, tracker, decision.offers)
        dispatcher.utter_message(text=ANYTHING_ELSE)
        return events + [SlotSet("stage", None), SlotSet("offers", None), SlotSet("pending_offer", None)]

    def _side_question(self, dispatcher: CollectingDispatcher, tracker: Tracker, account: Text, intent: Text
                       ) -> List[EventType]:
        if intent == "refund_status":
            text = cases.refund_status(account)
        else:
            text = cases.handle(account, "ask_balance").messages[0]
        dispatcher.utter_message(text=text)
        offers = stored_offers(tracker)
        pending = pending_offer(tracker)
        if tracker.get_slot("stage") == CONFIRMING and pending is not None:
            dispatcher.utter_message(text="Back to your " + (pending.invoice_number or "bill") + ": "
                                     + cases.confirmation(pending), buttons=YES_NO)
        else:
            dispatcher.utter_message(text="Back to your case — which option would you like?",
                                     buttons=buttons_for(offers))
        return []


GO_BACK = re.compile(r"(?i)\b(?:go back|back to the options|previous options|start (?:over|again)|change my mind)\b")
NOT_A_YES = re.compile(r"(?i)\b(?:wait|hold on|not yet|don'?t|do not|cancel|stop)\b")

# Words that point at one kind of offer.
_KIND_WORDS = (
    (OfferKind.CREDIT_NOTE, r"\bcredit|next bill|account\b|off (?:my|the) (?:next )?bill"),
    (OfferKind.REFUND, r"\brefund|card|money back|bank|back to (?:my|the)"),
    (OfferKind.FEE_REVERSAL, r"\bfee|revers|remove"),
    (OfferKind.HUMAN_REVIEW, r"\breview|specialist"),
)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1}


def pick_offer(text: Text, offers: Sequence[Offer], intent: Optional[Text] = None) -> Optional[Offer]:
    """The offer the customer's words point to, only when unambiguous."""
    low = text.lower()
    for word, index in _ORDINALS.items():
        if re.search(rf"\b{word}\b", low) and offers:
            return offers[index] if -len(offers) <= index < len(offers) else None
    match = re.search(r"\b(?:option|number|no\.?|#)\s*(\d)\b", low) or re.fullmatch(r"\s*(\d)\s*", low)
    if match:
        index = int(match.group(1)) - 1
        return offers[index] if 0 <= index < len(offers) else None
    for kind, pattern in _KIND_WORDS:
        if re.search(pattern, low):
            found = [o for o in offers if o.kind == kind]
            return found[0] if len(found) == 1 else None
    if intent == "request_refund":
        found = [o for o in offers if o.kind == OfferKind.REFUND]
        return found[0] if len(found) == 1 else None
    if intent == "affirm" and len(offers) == 1:
        return offers[0]
    return None


class ActionSelectOffer(BillingAction):
    """The customer picks an option (button or words): confirm it and wait for an explicit yes."""

    def name(self) -> Text:
        return "action_select_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        log_customer(tracker)
        offers = stored_offers(tracker)
        text, intent = latest_text(tracker), latest_intent(tracker)
        if offers and GO_BACK.search(text):  # "go back", "start over": the options again, nothing chosen
            dispatcher.utter_message(text="Sure — nothing has changed. Here are the options again:",
                                     buttons=buttons_for(offers))
            return [SlotSet("pending_offer", None), SlotSet("stage", CHOOSING)]
        chosen_id = entity(tracker, "offer_id")
        if chosen_id is not None:
            offer = cases.find_offer(offers, str(chosen_id))
            if offer is None:  # not something we offered in this conversation: never acted on
                dispatcher.utter_message(text="Sorry, that isn't one of the options I can offer here. "
                                         "Please pick one of these:", buttons=buttons_for(offers))
                return [SlotSet("pending_offer", None)] + ([SlotSet("stage", CHOOSING)] if offers else [])
            return self._confirm(dispatcher, offer)

        months = months_in(text)
        if months is not None and (any(o.kind == OfferKind.PAYMENT_PLAN for o in offers)
                                   or tracker.get_slot("case_intent") in ("request_payment_plan", "ask_balance")):
            return self._plan(dispatcher, tracker, months, offers)

        offer = pick_offer(text, offers, intent)
        if offer is None:
            if not offers:
                dispatcher.utter_message(text=ANYTHING_ELSE)
                return [SlotSet("stage", None)]
            dispatcher.utter_message(text="Which of these would you like?", buttons=buttons_for(offers))
            return [SlotSet("stage", CHOOSING)]
        return self._confirm(dispatcher, offer)

    @staticmethod
    def _confirm(dispatcher: CollectingDispatcher, offer: Offer) -> List[EventType]:
        dispatcher.utter_message(text=cases.confirmation(offer), buttons=YES_NO)
        return [SlotSet("pending_offer", offer.to_dict()), SlotSet("stage", CONFIRMING)]

    @staticmethod
    def _plan(dispatcher: CollectingDispatcher, tracker: Tracker, months: int, offers: List[Offer]
              ) -> List[EventType]:
        case = cases.find_case(tracker.get_slot("account_number"), tracker.get_slot("case_intent") or
                               "request_payment_plan", **_case_args(tracker))
        answer = cases.plan_for_months(case, months)
        events: List[EventType] = []
        if answer.offer is not None and cases.find_offer(offers, answer.offer.id) is None:
            offers = offers + [answer.offer]  # our own answer becomes one of the offers
            events += _offer_state(offers, tracker)
        if answer.offer is None:
            dispatcher.utter_message(text=answer.message, buttons=buttons_for(offers))
            return events + [SlotSet("stage", CHOOSING)]
        dispatcher.utter_message(text=answer.message, buttons=YES_NO)
        return events + [SlotSet("pending_offer", answer.offer.to_dict()), SlotSet("stage", CONFIRMING)]


class ActionExecuteOffer(BillingAction):
    """An explicit yes: execute the pending offer exactly once (a second yes only replays the result)."""

    def name(self) -> Text:
        return "action_execute_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        offer = pending_offer(tracker)
        if offer is None or not tracker.get_slot("verified"):
            return ask_csat(dispatcher)
        if offer.account_number != tracker.get_slot("account_number") or \
                cases.find_offer(stored_offers(tracker), offer.id) is None:
            dispatcher.utter_message(text="Sorry, I can't do that one from here.")
            return [SlotSet("pending_offer", None), SlotSet("stage", None)]
        log_customer(tracker)
        if GO_BACK.search(latest_text(tracker)) or NOT_A_YES.search(latest_text(tracker)):
            # Money moves only on an explicit yes: "go back" or "yes, but wait" re-asks instead.
            offers = stored_offers(tracker)
            dispatcher.utter_message(text="No problem — I haven't done anything yet. Which would you like?",
                                     buttons=buttons_for(offers))
            return [SlotSet("pending_offer", None), SlotSet("stage", CHOOSING)]
        result = cases.execute(offer, conversation_id=tracker.sender_id)  # logs the summary itself
        if result.handoff_reason and not result.replayed:
            escalation = forced_decision("requested" if offer.kind == OfferKind.HUMAN_REVIEW else "no_resolution",
                                         cases.HANDOFF_REASON_CODES.get(result.handoff_reason, "other"),
                                         f"{result.summary} (offer {offer.id})")
            escalation = replace(escalation, customer_message=None)
            context = {"offer": offer.to_dict(), "dispute_reference": result.dispute_reference}
            return hand_off(dispatcher, tracker, escalation, lead=result.text, case_context=context)
        dispatcher.utter_message(text=result.summary)
        if result.next_step:
            dispatcher.utter_message(text=result.next_step)
        return ask_csat(dispatcher)


class ActionDeclineOffer(BillingAction):
    """A no: nothing changes; offer the other options again, or close."""

    def name(self) -> Text:
        return "action_decline_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[EventType]:
        log_customer(tracker)
        offers = stored_offers(tracker)
        pending = pending_offer(tracker)
        declined = list(tracker.get_slot("offers_declined") or [])
        if tracker.get_slot("stage") == CONFIRMING and pending is not None:
            declined.append(pending.id)
            others = [o for o in offers if o.id != pending.id]
        else:
            declined += ids(offers)
            others = []
        events: List[EventType] = [SlotSet("offers_declined", list(dict.fromkeys(declined))),
                                   SlotSet("pending_offer", None)]
        if others:
            dispatcher.utter_message(text="No problem — I haven't changed anything. Would one of these suit you "
                                     "instead?", buttons=buttons_for(offers))
            return events + [SlotSet("stage", CHOOSING)]
        dispatcher.utter_message(text="No problem — I haven't changed anything on your account.")
        return events + ask_csat(dispatcher)
