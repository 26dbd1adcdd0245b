"""Checks every money-changing operation makes before it writes (inside its unit of work)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.errors import AuthorityExceeded, ExceedsCorrectable, InvalidRequest, NotConfirmedByLedger, NotFound
from bot.billing.findings import Finding, invoice_findings
from bot.billing.identifiers import normalise_invoice_number
from bot.billing.kinds import ActorKind, CorrectionStatus, InvoiceStatus
from bot.billing.ledger import InvoiceMoney, invoice_money
from bot.billing.models import Correction, Customer, Dispute, Invoice
from bot.billing.money import ZERO, MoneyInput, format_usd, to_money
from bot.billing.policy import correction_limit, load_policy


@dataclass(frozen=True)
class Actor:
    """Who makes a change: ``Actor.bot()`` or ``Actor.agent("agent-17")``."""

    kind: str
    id: str

    def __post_init__(self) -> None:
        if self.kind not in (ActorKind.BOT.value, ActorKind.AGENT.value):
            raise InvalidRequest("only the bot or an agent can change money")
        if not self.id or not self.id.strip():
            raise InvalidRequest("an actor id is required")

    @classmethod
    def bot(cls, actor_id: str = "billing-bot") -> "Actor":
        return cls(ActorKind.BOT.value, actor_id)

    @classmethod
    def agent(cls, actor_id: str) -> "Actor":
        return cls(ActorKind.AGENT.value, actor_id)

    @property
    def is_bot(self) -> bool:
        return self.kind == ActorKind.BOT.value


@dataclass
class InvoiceState:
    """An invoice locked for update, with its customer, sums and ledger findings."""

    invoice: Invoice
    customer: Customer
    money: InvoiceMoney
    findings: List[Finding]

    @property
    def confirmed(self) -> Decimal:
        """Amount the ledger confirms was charged in error."""
        return sum((f.amount for f in self.findings if f.overcharge), ZERO)


def positive_amount(amount: MoneyInput) -> Decimal:
    value = to_money(amount)
    if value <= ZERO:
        raise InvalidRequest("The amount must be positive.")
    return value


def lock_invoice(session: Session, invoice_number: str) -> InvoiceState:
    """Load and lock (``FOR UPDATE``; SQLite is already serialised) the invoice and its facts."""
    number = normalise_invoice_number(invoice_number)
    found = None
    if number is not None:  # the customer in the same query; only the invoice's row is locked
        found = session.execute(select(Invoice, Customer).join(Customer, Customer.id == Invoice.customer_id)
                                .where(Invoice.number == number).with_for_update(of=Invoice)).one_or_none()
    if found is None:
        raise NotFound(f"There is no invoice {invoice_number!r}.")
    invoice, customer = found
    money = invoice_money(session, {invoice.id: invoice.total})[invoice.id]
    return InvoiceState(invoice, customer, money, invoice_findings(session, invoice))


def dispute_for(session: Session, reference: Optional[str], invoice: Invoice) -> Optional[Dispute]:
    """The dispute ``reference`` (must concern ``invoice``), or ``None`` when no reference is given."""
    if not reference:
        return None
    dispute = session.execute(select(Dispute).where(Dispute.reference == reference.strip().upper())).scalar_one_or_none()
    if dispute is None or dispute.invoice_id != invoice.id:
        raise NotFound(f"There is no dispute {reference!r} for {invoice.number}.")
    return dispute


def corrected_so_far(session: Session, invoice_id: int) -> Decimal:
    """Everything already corrected on the invoice, goodwill included (counts toward authority)."""
    value = session.execute(select(func.sum(Correction.amount)).where(
        Correction.invoice_id == invoice_id, Correction.status != CorrectionStatus.FAILED.value)).scalar()
    return value if value is not None else ZERO


def check_authority(actor: Actor, amount: Decimal, already: Decimal) -> None:
    """The actor's limit applies to the total corrected on the disputed invoice."""
    limit = correction_limit(actor.kind)
    if amount + already > limit:
        raise AuthorityExceeded(actor.kind, amount + already, limit,
                                f"{format_usd(amount + already)} in corrections on this invoice is above the "
                                f"{actor.kind}'s authority of {format_usd(limit)}.")


def check_correctable(state: InvoiceState, actor: Actor, amount: Decimal) -> None:
    """Refuse corrections beyond what was charged in error (bot) or charged at all (agent),
    minus what was already corrected."""
    if actor.is_bot and load_policy().authority.bot_requires_ledger_confirmation:
        if state.confirmed <= ZERO:
            raise NotConfirmedByLedger(
                f"The ledger shows no error on {state.invoice.number}; an agent has to review it.")
        ceiling = state.confirmed
    else:
        ceiling = state.invoice.total
    available = ceiling - state.money.corrected
    if amount > available:
        raise ExceedsCorrectable(amount, max(available, ZERO),
                                 f"Only {format_usd(max(available, ZERO))} of {state.invoice.number} can still be "
                                 f"corrected; {format_usd(amount)} was requested.")


def check_correction(session: Session, state: InvoiceState, actor: Actor, amount: Decimal) -> None:
    """Authority first (so the bot hands off large amounts), then the error ceiling."""
    check_authority(actor, amount, corrected_so_far(session, state.invoice.id))
    check_correctable(state, actor, amount)


def refresh_status(session: Session, invoice: Invoice) -> Decimal:
    """Set ``paid``/``open`` from the balance; return the balance due."""
    session.flush()
    balance = invoice_money(session, {invoice.id: invoice.total})[invoice.id].balance_due
    if invoice.status != InvoiceStatus.VOID.value:
        invoice.status = (InvoiceStatus.PAID if balance <= ZERO else InvoiceStatus.OPEN).value
    return balance
