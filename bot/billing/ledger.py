"""Balances and sums shared by lookups, findings and operations (all inside a caller's session).

Balance model (per invoice)::

    balance_due = total - payments - fee reversals

A refund gives money back *and* reduces what the invoice should have charged, so it does not
change ``balance_due``. A credit note is carried to the next invoice: it shows as
``credit_available`` for the customer until a billing run applies it. A negative ``balance_due``
means the customer paid more than they owe on that invoice.

Statements are built once at import (with bound parameters) so SQLAlchemy reuses their cache
keys and compiled SQL: lookups stay in the low milliseconds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from bot.billing.kinds import CorrectionKind, CorrectionStatus, LineKind
from bot.billing.models import Correction, Payment
from bot.billing.money import ZERO

CHUNK = 900  # stay under SQLite's bound-parameter limit
_IDS = bindparam("ids", expanding=True)

PAID_BY_INVOICE = (select(Payment.invoice_id, func.sum(Payment.amount))
                   .where(Payment.invoice_id.in_(_IDS)).group_by(Payment.invoice_id))
PAID_BY_CUSTOMER = (select(Payment.invoice_id, func.sum(Payment.amount))
                    .where(Payment.customer_id == bindparam("customer_id")).group_by(Payment.invoice_id))
_CORRECTION_COLUMNS = (Correction.invoice_id, Correction.kind, Correction.status, Correction.is_goodwill,
                       func.sum(Correction.amount))
CORRECTIONS_BY_INVOICE = (select(*_CORRECTION_COLUMNS).where(Correction.invoice_id.in_(_IDS))
                          .group_by(*_CORRECTION_COLUMNS[:4]))
CORRECTIONS_BY_CUSTOMER = (select(*_CORRECTION_COLUMNS).where(Correction.customer_id == bindparam("customer_id"))
                           .group_by(*_CORRECTION_COLUMNS[:4]))
REFUNDED_BY_PAYMENT = (select(Correction.payment_id, func.sum(Correction.amount))
                       .where(Correction.payment_id.in_(_IDS), Correction.kind == CorrectionKind.REFUND.value,
                              Correction.status != CorrectionStatus.FAILED.value)
                       .group_by(Correction.payment_id))

CorrectionRow = Tuple[int, str, str, bool, Decimal]  # invoice id, kind, status, goodwill, sum


@dataclass(frozen=True)
class InvoiceMoney:
    """Sums for one invoice."""

    total: Decimal
    paid: Decimal
    refunded: Decimal
    fee_reversed: Decimal
    credited: Decimal  # credit notes raised against this invoice (carried to the next one)

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.paid - self.fee_reversed

    @property
    def corrected(self) -> Decimal:
        """Everything already given back for errors on this invoice (goodwill excluded)."""
        return self.refunded + self.fee_reversed + self.credited


def chunks(items: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def combine(totals: Mapping[int, Decimal], paid: Mapping[int, Decimal],
            corrections: Iterable[CorrectionRow]) -> Dict[int, InvoiceMoney]:
    """Build :class:`InvoiceMoney` from totals, payment sums and grouped correction sums."""
    corrected: Dict[Tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for invoice_id, kind, status, goodwill, amount in corrections:
        if status != CorrectionStatus.FAILED.value and not goodwill:
            corrected[(invoice_id, kind)] += amount
    return {
        invoice_id: InvoiceMoney(
            total=total,
            paid=paid.get(invoice_id, ZERO),
            refunded=corrected[(invoice_id, CorrectionKind.REFUND.value)],
            fee_reversed=corrected[(invoice_id, CorrectionKind.FEE_REVERSAL.value)],
            credited=corrected[(invoice_id, CorrectionKind.CREDIT_NOTE.value)],
        )
        for invoice_id, total in totals.items()
    }


def invoice_money(session: Session, totals: Mapping[int, Decimal],
                  paid: Optional[Mapping[int, Decimal]] = None) -> Dict[int, InvoiceMoney]:
    """Sums for the invoices in ``totals`` (invoice id -> total); pass ``paid`` if already known."""
    ids = list(totals)
    payments: Dict[int, Decimal] = dict(paid or {})
    corrections = []
    for part in chunks(ids):
        if paid is None:
            payments.update(session.execute(PAID_BY_INVOICE, {"ids": list(part)}).all())
        corrections.extend(session.execute(CORRECTIONS_BY_INVOICE, {"ids": list(part)}).all())
    return combine(totals, payments, corrections)


def pending_credit(corrections: Iterable[CorrectionRow]) -> Decimal:
    """Credit notes (goodwill included) waiting to be applied to the next invoice."""
    return sum((amount for _, kind, status, _, amount in corrections
                if kind == CorrectionKind.CREDIT_NOTE.value and status == CorrectionStatus.PENDING.value), ZERO)


def refunded_by_payment(session: Session, payment_ids: Sequence[int]) -> Dict[int, Decimal]:
    """Amount already refunded against each payment."""
    result: Dict[int, Decimal] = defaultdict(lambda: ZERO)
    for part in chunks(list(payment_ids)):
        result.update(session.execute(REFUNDED_BY_PAYMENT, {"ids": list(part)}).all())
    return result


def paid_by_deadline(
    due_date: date, grace_days: int, payments: Iterable[Tuple[Decimal, date]]
) -> Tuple[Decimal, date]:
    """Sum of payments received by ``due_date + grace_days`` and the date of the last of them."""
    deadline = due_date + timedelta(days=grace_days)
    total, last = ZERO, due_date
    for amount, received_on in sorted(payments, key=lambda p: p[1]):
        if received_on <= deadline:
            total += amount
            last = received_on
    return total, last


def chargeable_base(lines: Iterable[Tuple[str, Decimal]]) -> Decimal:
    """What an invoice charges before late fees (sum of non-late-fee line amounts)."""
    return sum((amount for kind, amount in lines if kind != LineKind.LATE_FEE.value), ZERO)
