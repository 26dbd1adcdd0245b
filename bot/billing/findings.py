"""Find ledger errors on invoices.

Four kinds (:class:`~bot.billing.kinds.FindingKind`):

* ``duplicate_line`` - the same charge (same kind, description, plan, period and price) appears
  more than once; the extra copies are in error.
* ``late_fee_despite_payment`` - a late fee although payments received by the due date plus the
  grace period (``findings.late_fee_grace_days`` in policy.yml) covered everything but the fee.
* ``charge_after_cancellation`` - a subscription charge for a period starting on or after the day
  the subscription was cancelled; the whole line is in error.
* ``price_mismatch`` - a plan line whose unit price differs from the plan's price for that period.

Charges the ledger cannot judge (equipment, installation, one-off items) are never findings: a
disputed equipment charge such as INV-0455's is a matter for an agent, not a ledger error.

:func:`detect` is pure (facts in, findings out); :func:`load_facts` fetches the facts - lines with
the plan price valid on each line's period start and the subscription's cancellation, and the
payments - for one invoice or for many at once (:func:`scan_findings`, used to measure
precision/recall on generated data).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import Session

from bot.billing.dates import human_date
from bot.billing.db import read_scope
from bot.billing.identifiers import normalise_invoice_number
from bot.billing.kinds import FindingKind, LineKind
from bot.billing.ledger import chargeable_base, chunks, paid_by_deadline
from bot.billing.models import Invoice, InvoiceLine, Payment, Plan, PlanPrice, Subscription
from bot.billing.money import ZERO, format_usd
from bot.billing.policy import load_policy


@dataclass(frozen=True)
class Finding:
    """One error on an invoice: ``amount`` is the amount in error, ``explanation`` one sentence."""

    kind: str
    invoice_number: str
    amount: Decimal
    explanation: str
    line_ids: Tuple[int, ...] = ()
    overcharge: bool = True  # False only for a plan line priced *below* the plan


@dataclass(frozen=True)
class LineFact:
    id: int
    kind: str
    description: str
    subscription_id: Optional[int]
    plan_id: Optional[int]
    period_start: Optional[date]
    period_end: Optional[date]
    quantity: int
    unit_price: Decimal
    amount: Decimal
    plan_name: Optional[str] = None  # for plan lines: the plan's name...
    plan_price: Optional[Decimal] = None  # ...and its price on the line's period start


@dataclass(frozen=True)
class InvoiceFacts:
    """Everything :func:`detect` needs about one invoice."""

    number: str
    due_date: date
    lines: Tuple[LineFact, ...]
    payments: Tuple[Tuple[Decimal, date], ...]  # (amount, received on)
    cancellations: Mapping[int, Optional[datetime]]  # subscription id -> cancelled_at


_TIMES = {2: "twice", 3: "three times"}


def _charge_name(line: LineFact) -> str:
    if line.kind == LineKind.PLAN.value and line.plan_name:
        return f"the {line.plan_name} plan"
    return f'"{line.description}"'


def _after_cancellation(facts: InvoiceFacts) -> List[Finding]:
    found = []
    for line in facts.lines:
        cancelled_at = facts.cancellations.get(line.subscription_id) if line.subscription_id else None
        if cancelled_at is None or line.period_start is None or line.period_start < cancelled_at.date():
            continue
        found.append(Finding(
            FindingKind.CHARGE_AFTER_CANCELLATION.value, facts.number, line.amount,
            f"{facts.number} charged {format_usd(line.amount)} for {_charge_name(line)} for "
            f"{line.period_start:%B %Y}, after the plan was cancelled on {human_date(cancelled_at.date())}.",
            (line.id,)))
    return found


def _duplicates(facts: InvoiceFacts, skip: set) -> List[Finding]:
    groups: Dict[tuple, List[LineFact]] = defaultdict(list)
    for line in facts.lines:
        if line.id not in skip and line.kind != LineKind.LATE_FEE.value:
            groups[(line.kind, line.description, line.subscription_id, line.plan_id, line.period_start,
                    line.period_end, line.quantity, line.unit_price)].append(line)
    found = []
    for group in groups.values():
        if len(group) < 2:
            continue
        extra = group[1:]
        times = _TIMES.get(len(group), f"{len(group)} times")
        charged = sum((line.amount for line in group), ZERO)
        found.append(Finding(
            FindingKind.DUPLICATE_LINE.value, facts.number, sum((line.amount for line in extra), ZERO),
            f"{facts.number} charged {_charge_name(group[0])} {times}: "
            f"{format_usd(charged)} instead of {format_usd(group[0].amount)}.",
            tuple(line.id for line in extra)))
    return found


def _price_mismatches(facts: InvoiceFacts, skip: set) -> List[Finding]:
    found = []
    for line in facts.lines:
        expected = line.plan_price
        if line.id in skip or line.kind != LineKind.PLAN.value or expected is None or expected == line.unit_price:
            continue
        over = line.unit_price > expected
        found.append(Finding(
            FindingKind.PRICE_MISMATCH.value, facts.number, abs(line.unit_price - expected) * line.quantity,
            f"{facts.number} charged {format_usd(line.unit_price)} for {_charge_name(line)} "
            f"instead of the plan price of {format_usd(expected)}.",
            (line.id,), overcharge=over))
    return found


def _late_fee(facts: InvoiceFacts, grace_days: int) -> List[Finding]:
    fees = [line for line in facts.lines if line.kind == LineKind.LATE_FEE.value]
    if not fees:
        return []
    base = chargeable_base((line.kind, line.amount) for line in facts.lines)
    paid, last = paid_by_deadline(facts.due_date, grace_days, facts.payments)
    if base <= ZERO or paid < base:
        return []
    fee = sum((line.amount for line in fees), ZERO)
    if last == facts.due_date:
        when = "the due date"
    elif last < facts.due_date:
        when = f"before the due date of {human_date(facts.due_date)}"
    else:
        when = f"within the {grace_days}-day grace period after the due date of {human_date(facts.due_date)}"
    return [Finding(
        FindingKind.LATE_FEE_DESPITE_PAYMENT.value, facts.number, fee,
        f"{facts.number} added a {format_usd(fee)} late fee although the payment of {format_usd(paid)} "
        f"arrived on {human_date(last)}, {when}.",
        tuple(line.id for line in fees))]


def detect(facts: InvoiceFacts, *, grace_days: int) -> List[Finding]:
    """All findings for one invoice (pure function; lines after cancellation are judged once)."""
    found = _after_cancellation(facts)
    skip = {line_id for finding in found for line_id in finding.line_ids}
    duplicates = _duplicates(facts, skip)
    skip |= {line_id for finding in duplicates for line_id in finding.line_ids}
    return found + duplicates + _price_mismatches(facts, skip) + _late_fee(facts, grace_days)


_IDS = bindparam("ids", expanding=True)
_L, _P = InvoiceLine, Payment
_PRICE_ON_PERIOD = and_(PlanPrice.plan_id == _L.plan_id, PlanPrice.valid_from <= _L.period_start,
                        or_(PlanPrice.valid_to.is_(None), PlanPrice.valid_to > _L.period_start))
LINES = (select(_L.invoice_id, _L.id, _L.kind, _L.description, _L.subscription_id, _L.plan_id, _L.period_start,
                _L.period_end, _L.quantity, _L.unit_price, _L.amount, Plan.name, PlanPrice.amount,
                Subscription.cancelled_at)
         .outerjoin(Plan, Plan.id == _L.plan_id)
         .outerjoin(PlanPrice, _PRICE_ON_PERIOD)
         .outerjoin(Subscription, Subscription.id == _L.subscription_id)
         .where(_L.invoice_id.in_(_IDS)).order_by(_L.id))
PAYMENTS = select(_P.invoice_id, _P.amount, _P.received_at).where(_P.invoice_id.in_(_IDS))
INVOICE_BY_NUMBER = select(Invoice.id, Invoice.number, Invoice.due_date).where(Invoice.number == bindparam("number"))
# One invoice by number: the invoice with its lines in one statement (outer join: an invoice without
# lines still comes back), its payments in a second; two round trips instead of three.
_NUMBER = bindparam("number")
INVOICE_WITH_LINES = (select(Invoice.id, Invoice.number, Invoice.due_date, _L.id, _L.kind, _L.description,
                             _L.subscription_id, _L.plan_id, _L.period_start, _L.period_end, _L.quantity,
                             _L.unit_price, _L.amount, Plan.name, PlanPrice.amount, Subscription.cancelled_at)
                      .select_from(Invoice)
                      .outerjoin(_L, _L.invoice_id == Invoice.id)
                      .outerjoin(Plan, Plan.id == _L.plan_id)
                      .outerjoin(PlanPrice, _PRICE_ON_PERIOD)
                      .outerjoin(Subscription, Subscription.id == _L.subscription_id)
                      .where(Invoice.number == _NUMBER).order_by(_L.id))
PAYMENTS_BY_NUMBER = (select(_P.amount, _P.received_at).join(Invoice, Invoice.id == _P.invoice_id)
                      .where(Invoice.number == _NUMBER))


def _facts_by_number(session: Session, number: str) -> Optional[InvoiceFacts]:
    rows = session.execute(INVOICE_WITH_LINES, {"number": number}).all()
    if not rows:
        return None
    lines, cancellations = [], {}
    for row in rows:
        if row[3] is None:  # the invoice has no lines
            continue
        lines.append(LineFact(*row[3:15]))
        if row[6] is not None:
            cancellations[row[6]] = row[15]
    payments = tuple((amount, received_at.date())
                     for amount, received_at in session.execute(PAYMENTS_BY_NUMBER, {"number": number}))
    return InvoiceFacts(number=rows[0][1], due_date=rows[0][2], lines=tuple(lines), payments=payments,
                        cancellations=cancellations)


def load_facts(session: Session, invoices: Sequence[Tuple[int, str, date]]) -> List[InvoiceFacts]:
    """Facts for ``(id, number, due_date)`` invoices: two queries per chunk of 900 invoices."""
    lines: Dict[int, List[LineFact]] = defaultdict(list)
    payments: Dict[int, List[Tuple[Decimal, date]]] = defaultdict(list)
    cancellations: Dict[int, Optional[datetime]] = {}
    for part in chunks([invoice_id for invoice_id, _, _ in invoices]):
        for row in session.execute(LINES, {"ids": list(part)}):
            lines[row[0]].append(LineFact(*row[1:13]))
            if row.subscription_id is not None:
                cancellations[row.subscription_id] = row.cancelled_at
        for invoice_id, amount, received_at in session.execute(PAYMENTS, {"ids": list(part)}):
            payments[invoice_id].append((amount, received_at.date()))
    return [
        InvoiceFacts(number=number, due_date=due_date, lines=tuple(lines.get(invoice_id, ())),
                     payments=tuple(payments.get(invoice_id, ())), cancellations=cancellations)
        for invoice_id, number, due_date in invoices
    ]


def invoice_findings(session: Session, invoice: Invoice, *, grace_days: Optional[int] = None) -> List[Finding]:
    """Findings for an invoice already loaded in ``session`` (used inside operations)."""
    grace = load_policy().late_fee_grace_days if grace_days is None else grace_days
    facts = load_facts(session, [(invoice.id, invoice.number, invoice.due_date)])[0]
    return detect(facts, grace_days=grace)


def findings_for_invoice(
    invoice_number: str, *, database_url: Optional[str] = None, grace_days: Optional[int] = None
) -> Optional[List[Finding]]:
    """Findings for an invoice (number in any form ``normalise_invoice_number`` accepts).

    Returns ``None`` when there is no such invoice and ``[]`` when the invoice is correct.
    """
    number = normalise_invoice_number(invoice_number)
    if number is None:
        return None
    with read_scope(database_url) as session:
        facts = _facts_by_number(session, number)
        if facts is None:
            return None
        grace = load_policy().late_fee_grace_days if grace_days is None else grace_days
        return detect(facts, grace_days=grace)


def scan_findings(
    *, database_url: Optional[str] = None, grace_days: Optional[int] = None, batch_size: int = 900
) -> Iterator[Finding]:
    """Findings for every invoice in the database, loaded in batches (keyset pagination by id)."""
    grace = load_policy().late_fee_grace_days if grace_days is None else grace_days
    last_id = 0
    with read_scope(database_url) as session:
        while True:
            batch = session.execute(
                select(Invoice.id, Invoice.number, Invoice.due_date).where(Invoice.id > last_id)
                .order_by(Invoice.id).limit(batch_size)
            ).all()
            if not batch:
                return
            for facts in load_facts(session, batch):
                yield from detect(facts, grace_days=grace)
            last_id = batch[-1][0]
