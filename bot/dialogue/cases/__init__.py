"""Dispute cases for a verified customer (Rasa-free): find the case, say what we found, offer
options within policy, confirm, execute exactly once, follow up.

Typical use from a Rasa action::

    decision = cases.handle(account, intent, invoice_number=..., amount=..., date=...)
    for text in decision.messages: dispatcher.utter_message(text=text)       # + buttons from decision.offers
    if decision.handoff_reason: ...hand off (decision.handoff_reason_code, handoff_summary, handoff_context)
    # customer picks offer_id -> cases.confirmation(offer) -> "yes" ->
    result = cases.execute(offer, conversation_id=tracker.sender_id)          # result.text, result.reference
"""
from __future__ import annotations

from datetime import date
from typing import Optional, Sequence, Union

from bot.dialogue.cases.decide import decide
from bot.dialogue.cases.execute import execute, idempotency_key, open_review
from bot.dialogue.cases.finder import AmountInput, DateInput, find_case, parse_amount, parse_period
from bot.dialogue.cases.followup import correction_line, refund_status
from bot.dialogue.cases.model import (
    HANDOFF_REASON_CODES,
    Case,
    Decision,
    DecisionKind,
    ExecutionResult,
    Intent,
    Offer,
    OfferKind,
    PlanAnswer,
    PlanInstallment,
    find_offer,
)
from bot.dialogue.cases.offers import plan_for_months
from bot.dialogue.cases.wording import confirmation


def handle(account_number: str, intent: str, *, invoice_number: Union[str, Sequence[str], None] = None,
           amount: AmountInput = None, date: DateInput = None, database_url: Optional[str] = None,
           today: Optional["date"] = None) -> Decision:
    """``decide(find_case(...))``: what to say and offer for a verified customer's request."""
    case = find_case(account_number, intent, invoice_number=invoice_number, amount=amount, date=date,
                     database_url=database_url, today=today)
    return decide(case)


__all__ = [
    "HANDOFF_REASON_CODES", "Case", "Decision", "DecisionKind", "ExecutionResult", "Intent", "Offer", "OfferKind",
    "PlanAnswer", "PlanInstallment", "confirmation", "correction_line", "decide", "execute", "find_case",
    "find_offer", "handle", "idempotency_key", "open_review", "parse_amount", "parse_period", "plan_for_months",
    "refund_status",
]
