"""The six demo accounts (a public contract: docs, tests and demos rely on these identifiers).

Dates are relative to the seed day: with ``M(k)`` the first day of the month ``k`` months from the
seed day's month, the latest invoice of every demo customer covers ``M(-1)`` (the previous month).
Invoices are issued on the first of the month they cover and due 14 days later (the 15th). Each
customer has five earlier, correct invoices paid on time (on the 6th).

=========  ===============  =====================================================================
ACC-1001   Maria Lopez      Standard; INV-0137..0141 history; INV-0142 bills the plan twice
                            ($98.00 instead of $49.00) and both $49.00 card payments were taken.
ACC-1002   James Carter     Standard; INV-0202..0206; INV-0207 carries a $25.00 late fee although
                            the $49.00 payment arrived on the due date (so $25.00 shows as owed).
ACC-1003   Priya Nair       Premium; INV-0306..0310 history (M(-7)..M(-3)); correct but unpaid and
                            overdue INV-0311 ($540.00, M(-2)) and INV-0388 ($700.00, M(-1)) = $1,240.00.
ACC-1004   Tom Becker       Standard; INV-0450..0454; INV-0455 = $49.00 plan + $2,500.00 equipment
                            he disputes (unpaid). The ledger does not mark the equipment wrong.
ACC-1005   Aisha Bello      Premium, cancelled on the 20th-ish of M(-2) (11 days before M(-1));
                            INV-0496..0500; INV-0501 still bills $79.00 for M(-1) and was paid.
ACC-1006   Liam O'Brien     Basic; INV-0605..0609; INV-0610 is correct ($29.00, prices include tax).
=========  ===============  =====================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Tuple

from sqlalchemy.orm import Session

from bot.billing.dates import add_months, month_end, month_start, utcnow
from bot.billing.kinds import FindingKind, InvoiceStatus, LineKind, PaymentMethod, SubscriptionStatus
from bot.billing.models import Customer, Invoice, InvoiceLine, Payment, SeededError, Subscription
from bot.billing.money import ZERO
from bot.billing.seed.catalog import PlanInfo

DUE_AFTER_DAYS = 14
LATE_FEE = Decimal("25.00")

LineSpec = Tuple[str, str, Decimal]  # kind, description, amount ("plan" lines: description ignored)
PaymentSpec = Tuple[Decimal, datetime]


@dataclass(frozen=True)
class DemoCustomer:
    account: str
    name: str
    email: str
    postal_code: str
    phone: str
    plan: str
    method: str
    method_detail: str
    history: Tuple[str, ...]  # numbers of the five earlier, correct invoices (oldest first)
    history_end: int  # month offset of the newest history invoice


DEMO_CUSTOMERS = (
    DemoCustomer("ACC-1001", "Maria Lopez", "maria.lopez@example.com", "94110", "+14155550101", "STANDARD",
                 PaymentMethod.CARD.value, "Visa ending 4242", ("INV-0137", "INV-0138", "INV-0139", "INV-0140", "INV-0141"), -2),
    DemoCustomer("ACC-1002", "James Carter", "james.carter@example.com", "10001", "+12125550102", "STANDARD",
                 PaymentMethod.BANK_TRANSFER.value, "Bank transfer", ("INV-0202", "INV-0203", "INV-0204", "INV-0205", "INV-0206"), -2),
    DemoCustomer("ACC-1003", "Priya Nair", "priya.nair@example.com", "60614", "+13125550103", "PREMIUM",
                 PaymentMethod.DIRECT_DEBIT.value, "Direct debit ending 7781", ("INV-0306", "INV-0307", "INV-0308", "INV-0309", "INV-0310"), -3),
    DemoCustomer("ACC-1004", "Tom Becker", "tom.becker@example.com", "73301", "+15125550104", "STANDARD",
                 PaymentMethod.CARD.value, "Amex ending 1005", ("INV-0450", "INV-0451", "INV-0452", "INV-0453", "INV-0454"), -2),
    DemoCustomer("ACC-1005", "Aisha Bello", "aisha.bello@example.com", "98101", "+12065550105", "PREMIUM",
                 PaymentMethod.CARD.value, "Mastercard ending 5454", ("INV-0496", "INV-0497", "INV-0498", "INV-0499", "INV-0500"), -2),
    DemoCustomer("ACC-1006", "Liam O'Brien", "liam.obrien@example.com", "02134", "+16175550106", "BASIC",
                 PaymentMethod.DIRECT_DEBIT.value, "Direct debit ending 3306", ("INV-0605", "INV-0606", "INV-0607", "INV-0608", "INV-0609"), -2),
)


def customer_since(account: str, today: date) -> date:
    """Maria has been a customer since 2017; the others' tenure is relative to the seed day."""
    if account == "ACC-1001":
        return date(2017, 3, 14)
    years = {"ACC-1002": 3, "ACC-1003": 4, "ACC-1004": 2, "ACC-1005": 3, "ACC-1006": 1}[account]
    return add_months(month_start(today), -12 * years - 1)


def aisha_cancelled_at(today: date) -> datetime:
    """Aisha cancelled Premium 11 days before the latest invoice's month began."""
    return datetime.combine(add_months(month_start(today), -1) - timedelta(days=11), time(16, 20))


class _Builder:
    def __init__(self, session: Session, plans: Dict[str, PlanInfo], today: date) -> None:
        self.session, self.plans, self.today = session, plans, today
        self.payment_seq = 0

    def month(self, offset: int) -> date:
        return add_months(month_start(self.today), offset)

    def invoice(self, customer: Customer, sub: Subscription, spec: DemoCustomer, number: str, offset: int,
                lines: Sequence[LineSpec], payments: Sequence[PaymentSpec]) -> Invoice:
        start = self.month(offset)
        plan = next(p for p in self.plans.values() if p.id == sub.plan_id)
        total = sum((amount for _, _, amount in lines), ZERO)
        paid = sum((amount for amount, _ in payments), ZERO)
        invoice = Invoice(
            number=number, customer_id=customer.id, subscription_id=sub.id, period_start=start,
            period_end=month_end(start), issue_date=start, due_date=start + timedelta(days=DUE_AFTER_DAYS),
            status=(InvoiceStatus.PAID if paid >= total else InvoiceStatus.OPEN).value, currency="USD",
            subtotal=total, tax_amount=ZERO, total=total, prices_include_tax=True, created_at=utcnow())
        self.session.add(invoice)
        self.session.flush()
        for kind, description, amount in lines:
            is_plan = kind == LineKind.PLAN.value
            self.session.add(InvoiceLine(
                invoice_id=invoice.id, kind=kind,
                description=f"{plan.name} plan - {start:%B %Y}" if is_plan else description,
                subscription_id=sub.id if is_plan else None, plan_id=plan.id if is_plan else None,
                period_start=start if is_plan else None, period_end=month_end(start) if is_plan else None,
                quantity=1, unit_price=amount, amount=amount))
        for amount, received_at in payments:
            self.payment_seq += 1
            self.session.add(Payment(
                customer_id=customer.id, invoice_id=invoice.id, method=spec.method, method_detail=spec.method_detail,
                amount=amount, received_at=received_at, external_reference=f"DEMO-{number}-{self.payment_seq}",
                created_at=utcnow()))
        self.session.flush()
        return invoice

    def on_time(self, offset: int, amount: Decimal, minute: int = 30) -> PaymentSpec:
        return amount, datetime.combine(self.month(offset) + timedelta(days=5), time(9, minute))


def seed_demo(session: Session, plans: Dict[str, PlanInfo], today: date) -> List[Tuple[str, str, Decimal]]:
    """Insert the demo accounts; return the injected errors as (invoice number, kind, amount)."""
    b = _Builder(session, plans, today)
    errors: List[Tuple[str, str, Decimal]] = []
    for spec in DEMO_CUSTOMERS:
        plan = plans[spec.plan]
        customer = Customer(account_number=spec.account, name=spec.name, email=spec.email, phone=spec.phone,
                            postal_code=spec.postal_code, customer_since=customer_since(spec.account, today),
                            created_at=utcnow())
        session.add(customer)
        session.flush()
        cancelled: Optional[datetime] = aisha_cancelled_at(today) if spec.account == "ACC-1005" else None
        sub = Subscription(customer_id=customer.id, plan_id=plan.id,
                           status=(SubscriptionStatus.CANCELLED if cancelled else SubscriptionStatus.ACTIVE).value,
                           started_on=customer.customer_since, cancelled_at=cancelled, created_at=utcnow())
        session.add(sub)
        session.flush()
        plan_line: LineSpec = (LineKind.PLAN.value, "", plan.price)
        first = spec.history_end - len(spec.history) + 1
        for number, offset in zip(spec.history, range(first, spec.history_end + 1)):
            b.invoice(customer, sub, spec, number, offset, [plan_line], [b.on_time(offset, plan.price)])
        errors.extend(_latest(b, customer, sub, spec, plan_line))
    return errors


def _latest(b: _Builder, customer: Customer, sub: Subscription, spec: DemoCustomer,
            plan_line: LineSpec) -> List[Tuple[str, str, Decimal]]:
    price = plan_line[2]
    if spec.account == "ACC-1001":
        b.invoice(customer, sub, spec, "INV-0142", -1, [plan_line, plan_line],
                  [b.on_time(-1, price, 30), b.on_time(-1, price, 31)])
        return [("INV-0142", FindingKind.DUPLICATE_LINE.value, price)]
    if spec.account == "ACC-1002":
        due = b.month(-1) + timedelta(days=DUE_AFTER_DAYS)
        b.invoice(customer, sub, spec, "INV-0207", -1,
                  [plan_line, (LineKind.LATE_FEE.value, "Late payment fee", LATE_FEE)],
                  [(price, datetime.combine(due, time(16, 45)))])
        return [("INV-0207", FindingKind.LATE_FEE_DESPITE_PAYMENT.value, LATE_FEE)]
    if spec.account == "ACC-1003":
        b.invoice(customer, sub, spec, "INV-0311", -2,
                  [plan_line, (LineKind.INSTALLATION.value, "Fiber line installation", Decimal("461.00"))], [])
        b.invoice(customer, sub, spec, "INV-0388", -1,
                  [plan_line, (LineKind.EQUIPMENT.value, "Wi-Fi 6 mesh system (3 units)", Decimal("621.00"))], [])
        return []
    if spec.account == "ACC-1004":
        b.invoice(customer, sub, spec, "INV-0455", -1,
                  [plan_line, (LineKind.EQUIPMENT.value, "Business-grade router and on-site installation",
                               Decimal("2500.00"))], [])
        return []
    if spec.account == "ACC-1005":
        b.invoice(customer, sub, spec, "INV-0501", -1, [plan_line], [b.on_time(-1, price)])
        return [("INV-0501", FindingKind.CHARGE_AFTER_CANCELLATION.value, price)]
    b.invoice(customer, sub, spec, "INV-0610", -1, [plan_line], [b.on_time(-1, price)])
    return []


def record_demo_errors(session: Session, errors: Sequence[Tuple[str, str, Decimal]]) -> None:
    """Store the demo errors as ground truth next to the generated ones."""
    from sqlalchemy import select

    for number, kind, amount in errors:
        invoice_id = session.execute(select(Invoice.id).where(Invoice.number == number)).scalar_one()
        session.add(SeededError(invoice_id=invoice_id, kind=kind, amount=amount, source="demo"))
    session.flush()
