"""Plain data of a dispute case: what was found, what we offer, what was done (no Rasa, no DB).

Everything is a frozen dataclass. :class:`Offer` round-trips through :meth:`Offer.to_dict` /
:meth:`Offer.from_dict` (JSON-safe: amounts as strings, dates ISO) so an action can keep the offers
in a slot between turns and execute the one the customer picks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from bot.billing.dto import BalanceDTO, CorrectionDTO, InvoiceDTO, RecognitionFacts
from bot.billing.findings import Finding
from bot.billing.kinds import HandoffReason


class Intent:
    DISPUTE_CHARGE = "dispute_charge"
    CHARGED_TWICE = "charged_twice"
    REQUEST_REFUND = "request_refund"
    ASK_INVOICE = "ask_invoice"
    ASK_BALANCE = "ask_balance"
    REQUEST_PAYMENT_PLAN = "request_payment_plan"
    MAKE_PAYMENT = "make_payment"

    DISPUTES = (DISPUTE_CHARGE, CHARGED_TWICE, REQUEST_REFUND)
    BALANCE = (ASK_BALANCE, REQUEST_PAYMENT_PLAN, MAKE_PAYMENT)
    ALL = DISPUTES + (ASK_INVOICE,) + BALANCE


class OfferKind:
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"
    FEE_REVERSAL = "fee_reversal"
    PAYMENT_PLAN = "payment_plan"
    HUMAN_REVIEW = "human_review"  # changes no money: the caller hands off (reason customer_request)


class DecisionKind:
    CORRECTION = "correction"  # the ledger confirms our error: refund/credit/fee reversal offers
    ALREADY_CORRECTED = "already_corrected"  # our error, already put right (references given)
    EXPLAIN = "explain"  # the bill is correct: line by line, human review offered
    HANDOFF = "handoff"  # above the bot's authority / not confirmed by the ledger
    PAYMENT_PLAN = "payment_plan"  # correct but hard to pay: schedules from policy
    BALANCE = "balance"  # what is owed (plans added when overdue)
    NOT_FOUND = "not_found"  # no such invoice on this account (never reveals other customers')


# Decision.handoff_reason (short, stable) -> bot.billing.kinds.HandoffReason code for create_handoff.
HANDOFF_REASON_CODES: Mapping[str, str] = {
    "authority": HandoffReason.ABOVE_AUTHORITY.value,
    "not_confirmed": HandoffReason.NOT_CONFIRMED.value,
    "policy": HandoffReason.POLICY_EXCEPTION.value,
    "customer_request": HandoffReason.CUSTOMER_REQUEST.value,
    "other": HandoffReason.OTHER.value,
}


@dataclass(frozen=True)
class Case:
    """The invoice(s) concerned by what a verified customer asked, with the facts to answer it."""

    account_number: str
    customer_name: str
    intent: str
    invoices: Tuple[InvoiceDTO, ...]  # concerned invoices, primary first (balance intents: open ones)
    findings: Tuple[Finding, ...]  # customer-favour ledger errors on the primary invoice
    remaining: Mapping[str, Decimal]  # finding kind -> amount still to correct (after corrections)
    corrections: Tuple[CorrectionDTO, ...]  # corrections already made on the primary invoice
    recognition: Optional[RecognitionFacts]
    balance: Optional[BalanceDTO]
    not_found: Tuple[str, ...] = ()  # named invoice numbers not on this account
    clean: Tuple[str, ...] = ()  # concerned invoices checked and found correct by the ledger
    disputed_amount: Optional[Decimal] = None  # the amount entity, if any (USD)
    active_plan_reference: Optional[str] = None
    plan_prices: Mapping[str, Decimal] = field(default_factory=dict)  # plan name -> monthly price
    today: Optional[date] = None

    @property
    def invoice(self) -> Optional[InvoiceDTO]:
        return self.invoices[0] if self.invoices else None

    @property
    def found(self) -> bool:
        return bool(self.invoices) or (self.balance is not None and self.intent in Intent.BALANCE)

    @property
    def our_fault(self) -> bool:
        return bool(self.findings)


@dataclass(frozen=True)
class PlanInstallment:
    sequence: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class Offer:
    """One option within policy. ``id`` is stable (same case, same id) and unique per case;
    ``operation`` + ``params`` are the exact billing-core call :func:`execute` makes."""

    id: str
    kind: str
    title: str  # short, for a button: "Refund $49.00 to my card"
    summary: str  # one sentence: what will happen
    account_number: str
    invoice_number: Optional[str]
    amount: Decimal  # money moved (the plan total for a payment plan; 0.00 for a review)
    operation: Optional[str]  # bot.billing.operations function name, None for a review
    params: Mapping[str, Any]  # JSON-safe keyword arguments for ``operation``
    reason: str = ""  # the finding explanation (stored on the dispute and the correction)
    finding_kind: Optional[str] = None
    charge: str = ""  # "the duplicate Standard charge" (for confirmations and summaries)
    goodwill_amount: Optional[Decimal] = None  # goodwill credit granted with this correction
    method_detail: Optional[str] = None  # payment method of a refund: "Visa ending 4242"
    destination: Optional[str] = None  # where a refund goes, in words: "your Visa ending 4242"
    installments: Tuple[PlanInstallment, ...] = ()
    handoff_reason: Optional[str] = None  # set for a human review

    @property
    def changes_money(self) -> bool:
        return self.operation is not None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "summary": self.summary,
            "account_number": self.account_number, "invoice_number": self.invoice_number,
            "amount": str(self.amount), "operation": self.operation, "params": dict(self.params),
            "reason": self.reason, "finding_kind": self.finding_kind, "charge": self.charge,
            "goodwill_amount": str(self.goodwill_amount) if self.goodwill_amount is not None else None,
            "method_detail": self.method_detail, "destination": self.destination,
            "installments": [[i.sequence, i.due_date.isoformat(), str(i.amount)] for i in self.installments],
            "handoff_reason": self.handoff_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Offer":
        goodwill = data.get("goodwill_amount")
        return cls(
            id=data["id"], kind=data["kind"], title=data["title"], summary=data["summary"],
            account_number=data["account_number"], invoice_number=data.get("invoice_number"),
            amount=Decimal(data["amount"]), operation=data.get("operation"), params=dict(data.get("params") or {}),
            reason=data.get("reason", ""), finding_kind=data.get("finding_kind"), charge=data.get("charge", ""),
            goodwill_amount=Decimal(goodwill) if goodwill is not None else None,
            method_detail=data.get("method_detail"), destination=data.get("destination"),
            installments=tuple(PlanInstallment(int(s), date.fromisoformat(d), Decimal(a))
                               for s, d, a in data.get("installments") or ()),
            handoff_reason=data.get("handoff_reason"))


def find_offer(offers: Sequence[Offer], offer_id: str) -> Optional[Offer]:
    """The offer with this id (``None`` if the customer picked something we did not offer)."""
    return next((o for o in offers if o.id == offer_id), None)


@dataclass(frozen=True)
class Decision:
    """What to say and offer. ``messages`` are plain-text bot messages, in order."""

    kind: str
    case: Case
    messages: Tuple[str, ...]
    offers: Tuple[Offer, ...] = ()
    apology: bool = False  # True iff the ledger shows our mistake
    recognition: Optional[str] = None  # the recognition sentence used, if any
    handoff_reason: Optional[str] = None  # "authority", "not_confirmed", "policy", ...
    handoff_summary: Optional[str] = None  # one paragraph for the agent
    handoff_context: Mapping[str, Any] = field(default_factory=dict)  # JSON-safe, for create_handoff
    info: Tuple[str, ...] = ()  # informational extras (e.g. a cheaper plan), already in messages

    @property
    def text(self) -> str:
        return "\n\n".join(self.messages)

    @property
    def handoff_reason_code(self) -> Optional[str]:
        """The :class:`bot.billing.kinds.HandoffReason` value for ``create_handoff``."""
        return HANDOFF_REASON_CODES.get(self.handoff_reason) if self.handoff_reason else None


@dataclass(frozen=True)
class PlanAnswer:
    """Answer to "can I pay over N months?": an offer if policy allows, else the limits."""

    allowed: bool
    message: str
    offer: Optional[Offer] = None  # the requested schedule (allowed) or the closest allowed one


@dataclass(frozen=True)
class ExecutionResult:
    """What :func:`execute` did. ``summary`` + ``next_step`` are the customer-facing text
    (also written to the interaction log); ``replayed`` means it had already been done."""

    ok: bool
    offer_id: str
    reference: Optional[str]
    replayed: bool
    summary: str
    next_step: str
    dispute_reference: Optional[str] = None
    goodwill_reference: Optional[str] = None
    record: Optional[Any] = None  # CorrectionDTO or PaymentPlanDTO
    handoff_reason: Optional[str] = None  # set when it could not be done and a person should look
    interaction_id: Optional[int] = None

    @property
    def text(self) -> str:
        return f"{self.summary} {self.next_step}".strip()


__all__ = [
    "Case", "Decision", "DecisionKind", "ExecutionResult", "HANDOFF_REASON_CODES", "Intent", "Offer", "OfferKind",
    "PlanAnswer", "PlanInstallment", "find_offer",
]
