"""Read-only lookups for the Rasa actions and the agent console (DTOs out, no sessions held).

Every function takes ``database_url=None`` (default: ``DATABASE_URL``) and returns ``None`` (or an
empty list) when nothing matches. Identifiers are normalised first, so ``"inv 142"`` finds
``INV-0142`` and ``"(415) 555-0101"`` finds ``+14155550101``.
"""
from __future__ import annotations

import hmac
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.billing.convert import correction_dtos, dispute_dto, payment_plan_dto
from bot.billing.dates import today_utc, years_between
from bot.billing.db import read_scope
from bot.billing.dto import (
    BalanceDTO,
    CorrectionDTO,
    CustomerDTO,
    DisputeDTO,
    InvoiceDTO,
    InvoiceLineDTO,
    OpenInvoiceDTO,
    PaymentDTO,
    PaymentPlanDTO,
    RecognitionFacts,
)
from bot.billing.identifiers import (
    looks_like_account,
    looks_like_invoice,
    normalise_account_number,
    normalise_email,
    normalise_invoice_number,
    normalise_phone,
    normalise_postal_code,
)
from bot.billing.kinds import CorrectionStatus, SubscriptionStatus
from bot.billing.ledger import (
    CORRECTIONS_BY_CUSTOMER,
    PAID_BY_CUSTOMER,
    chargeable_base,
    combine,
    invoice_money,
    paid_by_deadline,
    pending_credit,
)
from bot.billing.models import (
    Correction,
    Customer,
    Dispute,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentPlan,
    Plan,
    Subscription,
)
from bot.billing.money import ZERO
from bot.billing.policy import load_policy


_C, _I, _L, _P = Customer, Invoice, InvoiceLine, Payment
_CUSTOMER_COLUMNS = (_C.id, _C.account_number, _C.name, _C.email, _C.phone, _C.postal_code, _C.customer_since)
CUSTOMER_BY_ACCOUNT = select(*_CUSTOMER_COLUMNS).where(_C.account_number == bindparam("value"))
CUSTOMER_BY_EMAIL = select(*_CUSTOMER_COLUMNS).where(_C.email == bindparam("value"))
CUSTOMERS_BY_PHONE = select(*_CUSTOMER_COLUMNS).where(_C.phone == bindparam("value")).order_by(_C.id)
CUSTOMER_BY_INVOICE = (select(*_CUSTOMER_COLUMNS).join(_I, _I.customer_id == _C.id)
                       .where(_I.number == bindparam("value")))
# Plain columns, not the ORM entity: rows are read by attribute like an Invoice, at a third of the cost.
_INVOICE_COLUMNS = (_I.id, _I.number, _I.period_start, _I.period_end, _I.issue_date, _I.due_date, _I.status,
                    _I.currency, _I.subtotal, _I.tax_amount, _I.total, _I.prices_include_tax)
# get_invoice: the invoice, its customer and its lines in one statement (outer join: an invoice without
# lines still comes back), then payments and corrections: three round trips instead of four.
_LINE_COLUMNS = (_L.id.label("line_id"), _L.kind.label("line_kind"), _L.description.label("line_description"),
                 _L.quantity.label("line_quantity"), _L.unit_price.label("line_unit_price"),
                 _L.amount.label("line_amount"), _L.period_start.label("line_period_start"),
                 _L.period_end.label("line_period_end"), Plan.code.label("line_plan_code"))
INVOICE_CUSTOMER_LINES = (select(*_INVOICE_COLUMNS, _C.account_number, _C.name, *_LINE_COLUMNS)
                          .select_from(_I).join(_C, _C.id == _I.customer_id)
                          .outerjoin(_L, _L.invoice_id == _I.id).outerjoin(Plan, Plan.id == _L.plan_id)
                          .where(_I.number == bindparam("number")).order_by(_L.id))
INVOICE_LINES = (select(_L.id, _L.kind, _L.description, _L.quantity, _L.unit_price, _L.amount, _L.period_start,
                        _L.period_end, Plan.code)
                 .outerjoin(Plan, Plan.id == _L.plan_id).where(_L.invoice_id == bindparam("invoice_id"))
                 .order_by(_L.id))
INVOICE_PAYMENTS = (select(_P.id, _P.method, _P.method_detail, _P.amount, _P.received_at, _P.external_reference)
                    .where(_P.invoice_id == bindparam("invoice_id")).order_by(_P.received_at, _P.id))
# The same for several invoices at once (list_invoices): the invoice id first, then the columns above.
LINES_OF_INVOICES = (select(_L.invoice_id, _L.id, _L.kind, _L.description, _L.quantity, _L.unit_price, _L.amount,
                            _L.period_start, _L.period_end, Plan.code)
                     .outerjoin(Plan, Plan.id == _L.plan_id).where(_L.invoice_id.in_(bindparam("ids", expanding=True)))
                     .order_by(_L.id))
PAYMENTS_OF_INVOICES = (select(_P.invoice_id, _P.id, _P.method, _P.method_detail, _P.amount, _P.received_at,
                               _P.external_reference)
                        .where(_P.invoice_id.in_(bindparam("ids", expanding=True))).order_by(_P.received_at, _P.id))
CUSTOMER_INVOICES = (select(_C.id, _I.id, _I.number, _I.issue_date, _I.due_date, _I.total)
                     .outerjoin(_I, _I.customer_id == _C.id).where(_C.account_number == bindparam("account"))
                     .order_by(_I.due_date, _I.id))
CUSTOMER_LINES = (select(_L.invoice_id, _L.kind, _L.amount).join(_I, _I.id == _L.invoice_id)
                  .where(_I.customer_id == bindparam("customer_id")))
CUSTOMER_PAYMENTS = (select(_P.invoice_id, _P.amount, _P.received_at)
                     .where(_P.customer_id == bindparam("customer_id")))


def _one_customer(session: Session, statement: object, value: str) -> Optional[CustomerDTO]:
    row = session.execute(statement, {"value": value}).first()
    return CustomerDTO(*row) if row else None


def _customer(session: Session, account_number: Optional[str]) -> Optional[CustomerDTO]:
    account = normalise_account_number(account_number) if account_number else None
    return _one_customer(session, CUSTOMER_BY_ACCOUNT, account) if account else None


def get_customer_by_account(account_number: str, *, database_url: Optional[str] = None) -> Optional[CustomerDTO]:
    """Customer by account number (``ACC-1001``, ``acc 1001``, ``1001``)."""
    account = normalise_account_number(account_number)
    if account is None:
        return None
    with read_scope(database_url) as session:
        return _one_customer(session, CUSTOMER_BY_ACCOUNT, account)


def get_customer_by_email(email: str, *, database_url: Optional[str] = None) -> Optional[CustomerDTO]:
    """Customer by email (case-insensitive)."""
    normalised = normalise_email(email)
    if normalised is None:
        return None
    with read_scope(database_url) as session:
        return _one_customer(session, CUSTOMER_BY_EMAIL, normalised)


def find_customers_by_phone(phone: str, *, database_url: Optional[str] = None) -> List[CustomerDTO]:
    """All customers with this phone number (any common format; stored as E.164)."""
    e164 = normalise_phone(phone)
    if e164 is None:
        return []
    with read_scope(database_url) as session:
        return [CustomerDTO(*row) for row in session.execute(CUSTOMERS_BY_PHONE, {"value": e164})]


def get_customer_by_phone(phone: str, *, database_url: Optional[str] = None) -> Optional[CustomerDTO]:
    """The customer with this phone number, or ``None`` if none or several share it."""
    found = find_customers_by_phone(phone, database_url=database_url)
    return found[0] if len(found) == 1 else None


def _invoice_dto(session: Session, invoice: Any, account_number: str, customer_name: str,
                 today: date, lines: Optional[List[InvoiceLineDTO]] = None) -> InvoiceDTO:
    if lines is None:
        lines = [InvoiceLineDTO(*row) for row in session.execute(INVOICE_LINES, {"invoice_id": invoice.id})]
    payments = [PaymentDTO(*row) for row in session.execute(INVOICE_PAYMENTS, {"invoice_id": invoice.id})]
    paid = sum((p.amount for p in payments), ZERO)
    money = invoice_money(session, {invoice.id: invoice.total}, paid={invoice.id: paid})[invoice.id]
    return _build_invoice_dto(invoice, account_number, customer_name, today, lines, payments, money)


def _build_invoice_dto(invoice: Any, account_number: str, customer_name: str, today: date,
                       lines: List[InvoiceLineDTO], payments: List[PaymentDTO], money: Any) -> InvoiceDTO:
    balance = money.balance_due
    return InvoiceDTO(
        id=invoice.id, number=invoice.number, account_number=account_number, customer_name=customer_name,
        period_start=invoice.period_start, period_end=invoice.period_end, issue_date=invoice.issue_date,
        due_date=invoice.due_date, status=invoice.status, currency=invoice.currency, subtotal=invoice.subtotal,
        tax_amount=invoice.tax_amount, total=invoice.total, prices_include_tax=bool(invoice.prices_include_tax),
        amount_paid=money.paid - money.refunded, balance_due=balance,
        overdue=balance > ZERO and invoice.due_date < today, lines=tuple(lines), payments=tuple(payments))


def get_invoice(invoice_number: str, *, database_url: Optional[str] = None,
                today: Optional[date] = None) -> Optional[InvoiceDTO]:
    """Invoice with lines, payments and balance by number (``INV-0142``, ``inv 142``, ``0142``)."""
    number = normalise_invoice_number(invoice_number)
    if number is None:
        return None
    with read_scope(database_url) as session:
        rows = session.execute(INVOICE_CUSTOMER_LINES, {"number": number}).all()
        if not rows:
            return None
        lines = [InvoiceLineDTO(*row[-9:]) for row in rows if row.line_id is not None]
        first = rows[0]
        return _invoice_dto(session, first, first.account_number, first.name, today or today_utc(), lines)


def list_invoices(account_number: str, *, limit: int = 12, database_url: Optional[str] = None,
                  today: Optional[date] = None) -> List[InvoiceDTO]:
    """The customer's newest invoices first (at most ``limit``)."""
    with read_scope(database_url) as session:
        customer = _customer(session, account_number)
        if customer is None:
            return []
        invoices = session.execute(
            select(Invoice).where(Invoice.customer_id == customer.id)
            .order_by(Invoice.period_start.desc(), Invoice.id.desc()).limit(limit)).scalars().all()
        if not invoices:
            return []
        # Three queries for all of them (lines, payments, corrections), not three per invoice.
        ids = [inv.id for inv in invoices]
        lines: Dict[int, List[InvoiceLineDTO]] = defaultdict(list)
        for invoice_id, *columns in session.execute(LINES_OF_INVOICES, {"ids": ids}):
            lines[invoice_id].append(InvoiceLineDTO(*columns))
        payments: Dict[int, List[PaymentDTO]] = defaultdict(list)
        for invoice_id, *columns in session.execute(PAYMENTS_OF_INVOICES, {"ids": ids}):
            payments[invoice_id].append(PaymentDTO(*columns))
        paid = {i: sum((p.amount for p in payments[i]), ZERO) for i in ids}
        money = invoice_money(session, {inv.id: inv.total for inv in invoices}, paid=paid)
        return [_build_invoice_dto(inv, customer.account_number, customer.name, today or today_utc(),
                                   lines[inv.id], payments[inv.id], money[inv.id])
                for inv in invoices]


def get_balance(account_number: str, *, database_url: Optional[str] = None,
                today: Optional[date] = None) -> Optional[BalanceDTO]:
    """What the customer owes: open invoices with due dates, the overdue part, and pending credit."""
    account = normalise_account_number(account_number)
    today = today or today_utc()
    if account is None:
        return None
    with read_scope(database_url) as session:
        rows = session.execute(CUSTOMER_INVOICES, {"account": account}).all()
        if not rows:
            return None
        customer_id = rows[0][0]
        invoices = [row for row in rows if row[1] is not None]
        paid = dict(session.execute(PAID_BY_CUSTOMER, {"customer_id": customer_id}).all())
        corrections = session.execute(CORRECTIONS_BY_CUSTOMER, {"customer_id": customer_id}).all()
    money = combine({row[1]: row[5] for row in invoices}, paid, corrections)
    items = []
    for _, invoice_id, number, issue_date, due_date, total in invoices:
        due = money[invoice_id].balance_due
        if due > ZERO:
            late = max((today - due_date).days, 0)
            items.append(OpenInvoiceDTO(number, issue_date, due_date, total, due, late > 0, late))
    overpaid = -sum((m.balance_due for m in money.values() if m.balance_due < ZERO), ZERO)
    upcoming = [i.due_date for i in items if i.due_date >= today]
    return BalanceDTO(account_number=account, total_owed=sum((i.balance_due for i in items), ZERO),
                      overdue_amount=sum((i.balance_due for i in items if i.overdue), ZERO),
                      credit_available=pending_credit(corrections) + overpaid,
                      next_due_date=min(upcoming) if upcoming else None, invoices=tuple(items))


def list_corrections(account_number: str, *, open_only: bool = False,
                     database_url: Optional[str] = None) -> List[CorrectionDTO]:
    """Refunds, credit notes and fee reversals for the customer, newest first.

    ``open_only`` keeps those still pending (a refund on its way, a credit not yet applied).
    """
    with read_scope(database_url) as session:
        customer = _customer(session, account_number)
        if customer is None:
            return []
        query = select(Correction).where(Correction.customer_id == customer.id)
        if open_only:
            query = query.where(Correction.status == CorrectionStatus.PENDING.value)
        rows = session.execute(query.order_by(Correction.created_at.desc(), Correction.id.desc())).scalars().all()
        return correction_dtos(session, rows)


def open_corrections(account_number: str, *, database_url: Optional[str] = None) -> List[CorrectionDTO]:
    """Pending refunds/credits: "where is my refund?"."""
    return list_corrections(account_number, open_only=True, database_url=database_url)


def list_disputes(account_number: str, *, database_url: Optional[str] = None) -> List[DisputeDTO]:
    """The customer's disputes, newest first."""
    with read_scope(database_url) as session:
        customer = _customer(session, account_number)
        if customer is None:
            return []
        rows = session.execute(select(Dispute).where(Dispute.customer_id == customer.id)
                               .order_by(Dispute.created_at.desc(), Dispute.id.desc())).scalars().all()
        return [dispute_dto(session, d) for d in rows]


def list_payment_plans(account_number: str, *, database_url: Optional[str] = None) -> List[PaymentPlanDTO]:
    """The customer's payment plans, newest first."""
    with read_scope(database_url) as session:
        customer = _customer(session, account_number)
        if customer is None:
            return []
        rows = session.execute(select(PaymentPlan).where(PaymentPlan.customer_id == customer.id)
                               .order_by(PaymentPlan.id.desc())).scalars().all()
        return [payment_plan_dto(session, p) for p in rows]


def recognition_facts(account_number: str, *, database_url: Optional[str] = None,
                      today: Optional[date] = None) -> Optional[RecognitionFacts]:
    """Tenure and payment history: invoices due so far and how many were paid on time.

    "On time" means payments received by the due date plus the policy's late-fee grace period
    covered the invoice (late fees excluded).
    """
    today = today or today_utc()
    grace = load_policy().late_fee_grace_days
    with read_scope(database_url) as session:
        customer = _customer(session, account_number)
        if customer is None:
            return None
        invoices = session.execute(select(Invoice.id, Invoice.due_date).where(
            Invoice.customer_id == customer.id, Invoice.due_date < today)).all()
        lines: Dict[int, List[Tuple[str, Decimal]]] = defaultdict(list)
        for invoice_id, kind, amount in session.execute(CUSTOMER_LINES, {"customer_id": customer.id}):
            lines[invoice_id].append((kind, amount))
        payments: Dict[int, List[Tuple[Decimal, date]]] = defaultdict(list)
        for invoice_id, amount, received_at in session.execute(CUSTOMER_PAYMENTS, {"customer_id": customer.id}):
            payments[invoice_id].append((amount, received_at.date()))
        plan_name = session.execute(
            select(Plan.name).join(Subscription, Subscription.plan_id == Plan.id)
            .where(Subscription.customer_id == customer.id, Subscription.status == SubscriptionStatus.ACTIVE.value)
            .order_by(Subscription.started_on.desc()).limit(1)).scalar()
    on_time = sum(paid_by_deadline(due_date, grace, payments[invoice_id])[0] >= chargeable_base(lines[invoice_id])
                  for invoice_id, due_date in invoices)
    due = len(invoices)
    ratio = (Decimal(on_time) / Decimal(due)).quantize(Decimal("0.0001")) if due else Decimal("1.0000")
    return RecognitionFacts(
        account_number=customer.account_number, name=customer.name, customer_since=customer.customer_since,
        tenure_years=years_between(customer.customer_since, today), plan_name=plan_name, invoices_due=due,
        paid_on_time=on_time, on_time_ratio=ratio, always_paid_on_time=due > 0 and on_time == due)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def verify(identifier: str, factor: str, *, database_url: Optional[str] = None) -> Optional[CustomerDTO]:
    """The customer if ``identifier`` (account or invoice number) and ``factor`` (email or postal
    code) belong together, else ``None``.

    ``"ACC..."``/``"INV..."`` say which kind of number it is; bare digits are tried as an account
    number first, then as an invoice number. Emails compare case-insensitively; comparisons use
    ``hmac.compare_digest``.
    """
    if not identifier or not factor:
        return None
    with read_scope(database_url) as session:
        customer = _identify(session, identifier)
    if customer is None:
        return None
    if "@" in factor:
        email = normalise_email(factor)
        ok = email is not None and _same(email, customer.email.lower())
    else:
        postal = normalise_postal_code(factor)
        ok = postal is not None and _same(postal, normalise_postal_code(customer.postal_code) or "")
    return customer if ok else None


def _identify(session: Session, identifier: str) -> Optional[CustomerDTO]:
    text = identifier.strip()
    if looks_like_invoice(text):
        tries = ("invoice",)
    elif looks_like_account(text):
        tries = ("account",)
    else:
        tries = ("account", "invoice")
    for kind in tries:
        if kind == "account":
            customer = _customer(session, text)
        else:
            number = normalise_invoice_number(text)
            customer = _one_customer(session, CUSTOMER_BY_INVOICE, number) if number else None
        if customer is not None:
            return customer
    return None


def get_dispute(reference: str, *, database_url: Optional[str] = None) -> Optional[DisputeDTO]:
    """A dispute by its reference."""
    with read_scope(database_url) as session:
        row = session.execute(select(Dispute).where(Dispute.reference == reference.strip().upper())
                              ).scalar_one_or_none()
        return dispute_dto(session, row) if row else None
