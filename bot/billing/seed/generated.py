"""Generated customers for volume and for measuring the finders (deterministic for a given seed).

* accounts ``ACC-2000`` upwards (demo accounts are ACC-1001..ACC-1006);
* invoice numbers ``INV-1000000`` upwards (seven digits; demo invoices have four, so they never
  collide and ``normalise_invoice_number`` handles both);
* emails ``first.last.<account digits>@example.net``; phones ``+1999`` + seven digits (E.164,
  never a demo number);
* 10-14 monthly invoices each, the latest for the previous month; about 2% of invoices carry
  one injected error of the four :class:`~bot.billing.kinds.FindingKind` kinds, recorded in
  ``seeded_errors`` (source ``generated``). ``charge_after_cancellation`` can only occur on a
  customer's latest invoice.

Correct data that looks suspicious on purpose (must produce no findings): late payments (10-25 days
after the due date) carrying a legitimate late fee, one-off equipment/installation charges, plan
changes (the old subscription is cancelled, the new one starts the next month), cancellations
within the latest billed month, and unpaid latest invoices.

Rows are yielded as tuples in :data:`COLUMNS` order, in batches; money is in integer cents, dates
as ISO strings and datetimes as ``YYYY-MM-DD HH:MM:SS.ffffff``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from bot.billing.dates import add_months, month_end, month_start
from bot.billing.kinds import FindingKind, InvoiceStatus, LineKind, PaymentMethod, SubscriptionStatus
from bot.billing.seed.catalog import PlanInfo

GENERATED_ACCOUNT_START = 2000
GENERATED_INVOICE_START = 1_000_000
ERROR_RATE = 0.02
LATE_FEE_CENTS = 2500
DUE_AFTER_DAYS = 14

COLUMNS: Dict[str, Tuple[str, ...]] = {
    "customers": ("id", "account_number", "name", "email", "phone", "postal_code", "customer_since", "created_at"),
    "subscriptions": ("id", "customer_id", "plan_id", "status", "started_on", "cancelled_at", "created_at"),
    "invoices": ("id", "number", "customer_id", "subscription_id", "period_start", "period_end", "issue_date",
                 "due_date", "status", "currency", "subtotal", "tax_amount", "total", "prices_include_tax",
                 "created_at"),
    "invoice_lines": ("id", "invoice_id", "kind", "description", "subscription_id", "plan_id", "period_start",
                      "period_end", "quantity", "unit_price", "amount"),
    "payments": ("id", "customer_id", "invoice_id", "method", "method_detail", "amount", "received_at",
                 "external_reference", "created_at"),
    "seeded_errors": ("id", "invoice_id", "kind", "amount", "source"),
}

FIRST_NAMES = ("Olivia", "Noah", "Emma", "Liam", "Ava", "Elijah", "Sophia", "Lucas", "Mia", "Mason", "Amelia",
               "Ethan", "Harper", "Logan", "Evelyn", "James", "Abigail", "Aiden", "Emily", "Jackson", "Ella",
               "Sebastian", "Chloe", "Mateo", "Grace", "Daniel", "Zoe", "Henry", "Nora", "Samuel", "Layla", "Omar",
               "Yuki", "Ravi", "Fatima", "Chen", "Ana", "Kofi", "Ingrid", "Diego")
LAST_NAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
              "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
              "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
              "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Patel",
              "Kim", "Okafor")
ONE_OFF = ((LineKind.EQUIPMENT.value, "Replacement router", 8900),
           (LineKind.INSTALLATION.value, "Technician visit", 7500),
           (LineKind.EQUIPMENT.value, "Wi-Fi extender", 4900))
METHODS = ((PaymentMethod.CARD.value, 0.7), (PaymentMethod.DIRECT_DEBIT.value, 0.2),
           (PaymentMethod.BANK_TRANSFER.value, 0.1))
PRICE_DELTAS = (500, 1000, 1500, 2000)
# plain strings (enum attribute access is slow in the hot loop)
DUPLICATE, LATE_FEE, AFTER_CANCEL, PRICE = (FindingKind.DUPLICATE_LINE.value, FindingKind.LATE_FEE_DESPITE_PAYMENT.value,
                                            FindingKind.CHARGE_AFTER_CANCELLATION.value, FindingKind.PRICE_MISMATCH.value)
INJECTABLE = (DUPLICATE, LATE_FEE, PRICE)
PLAN_LINE, LATE_FEE_LINE = LineKind.PLAN.value, LineKind.LATE_FEE.value
PAID, OPEN = InvoiceStatus.PAID.value, InvoiceStatus.OPEN.value


@dataclass
class StartIds:
    """First free primary key per table (generated rows carry explicit ids)."""

    customers: int = 1
    subscriptions: int = 1
    invoices: int = 1
    invoice_lines: int = 1
    payments: int = 1
    seeded_errors: int = 1


@dataclass
class Batch:
    rows: Dict[str, List[tuple]] = field(default_factory=lambda: {table: [] for table in COLUMNS})


def _randint(rng: random.Random, low: int, high: int) -> int:
    """Like ``rng.randint`` (inclusive) but several times faster."""
    return low + int(rng.random() * (high - low + 1))


def _ts(day: date, hour: int, minute: int) -> str:
    return f"{day.isoformat()} {hour:02d}:{minute:02d}:00.000000"


class Generator:
    """Produces generated customers in batches (see module docstring)."""

    def __init__(self, plans: Dict[str, PlanInfo], today: date, rng_seed: int, start: StartIds) -> None:
        self.plans = list(plans.values())
        self.weights = [0.3, 0.45, 0.25][: len(self.plans)]
        self.today = today
        self.rng = random.Random(rng_seed)
        self.ids = start
        self.invoice_seq = 0
        self.now = _ts(today, 0, 0)
        self.months = [add_months(month_start(today), -k) for k in range(0, 16)]  # months[k] = M(-k)
        self._periods: Dict[date, Tuple[date, str, str, str, str]] = {}

    def _period(self, start: date) -> Tuple[date, str, str, str, str]:
        cached = self._periods.get(start)
        if cached is None:
            due = start + timedelta(days=DUE_AFTER_DAYS)
            cached = (due, start.isoformat(), month_end(start).isoformat(), due.isoformat(), f"{start:%B %Y}")
            self._periods[start] = cached
        return cached

    def _next(self, table: str) -> int:
        value = getattr(self.ids, table)
        setattr(self.ids, table, value + 1)
        return value

    def batches(self, count: int, offset: int = 0, batch_customers: int = 5000) -> Iterator[Batch]:
        """``count`` customers (generated index ``offset`` onwards), ``batch_customers`` per batch."""
        batch = Batch()
        for index in range(offset, offset + count):
            self._customer(batch, index)
            if (index - offset + 1) % batch_customers == 0:
                yield batch
                batch = Batch()
        if batch.rows["customers"]:
            yield batch

    def _customer(self, batch: Batch, index: int) -> None:
        rng, rows = self.rng, batch.rows
        cid = self._next("customers")
        number = GENERATED_ACCOUNT_START + index
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        n = _randint(rng, 10, 14)
        periods = [self.months[k] for k in range(n, 0, -1)]  # oldest first, newest = M(-1)
        since = periods[0] - timedelta(days=_randint(rng, 0, 365 * 9))
        rows["customers"].append((cid, f"ACC-{number}", f"{first} {last}", f"{first}.{last}.{number}@example.net".lower(),
                                  f"+1999{index:07d}", f"{_randint(rng, 1001, 99950):05d}", since.isoformat(), self.now))
        method = rng.choices([m for m, _ in METHODS], [w for _, w in METHODS])[0]
        detail = {"card": f"Visa ending {_randint(rng, 1000, 9999)}", "direct_debit": "Direct debit",
                  "bank_transfer": "Bank transfer"}[method]

        errors: List[Optional[str]] = [None] * n
        for j in range(n):
            if rng.random() < ERROR_RATE:
                if j == n - 1 and rng.random() < 0.5:
                    errors[j] = AFTER_CANCEL
                else:
                    errors[j] = rng.choice(INJECTABLE)

        plan_a = rng.choices(self.plans, self.weights)[0]
        change_at = _randint(rng, 2, n - 3) if rng.random() < 0.03 else None
        subs: List[Tuple[int, PlanInfo]] = []
        sub_a = self._next("subscriptions")
        subs.append((sub_a, plan_a))
        cancel_current: Optional[str] = None
        if errors[-1] == AFTER_CANCEL:
            cancel_current = _ts(periods[-2] + timedelta(days=_randint(rng, 1, 25)), _randint(rng, 8, 20), _randint(rng, 0, 59))
        elif rng.random() < 0.03:
            cancel_current = _ts(periods[-1] + timedelta(days=_randint(rng, 1, 25)), _randint(rng, 8, 20), _randint(rng, 0, 59))
        if change_at is not None:
            plan_b = rng.choice([p for p in self.plans if p.id != plan_a.id])
            a_cancel = _ts(periods[change_at - 1] + timedelta(days=_randint(rng, 1, 25)), 12, 0)
            rows["subscriptions"].append((sub_a, cid, plan_a.id, SubscriptionStatus.CANCELLED.value,
                                          since.isoformat(), a_cancel, self.now))
            sub_b = self._next("subscriptions")
            subs.append((sub_b, plan_b))
            rows["subscriptions"].append((sub_b, cid, plan_b.id, _sub_status(cancel_current),
                                          periods[change_at].isoformat(), cancel_current, self.now))
        else:
            rows["subscriptions"].append((sub_a, cid, plan_a.id, _sub_status(cancel_current),
                                          since.isoformat(), cancel_current, self.now))

        for j, start in enumerate(periods):
            sub_id, plan = subs[1] if change_at is not None and j >= change_at else subs[0]
            self._invoice(rows, cid, sub_id, plan, start, errors[j], j == n - 1, method, detail)

    def _invoice(self, rows: Dict[str, List[tuple]], cid: int, sub_id: int, plan: PlanInfo, start: date,
                 error: Optional[str], latest: bool, method: str, detail: str) -> None:
        rng = self.rng
        inv_id = self._next("invoices")
        number = f"INV-{GENERATED_INVOICE_START + self.invoice_seq}"
        self.invoice_seq += 1
        due, start_iso, end_iso, due_iso, label = self._period(start)
        price = plan.price_cents
        plan_line = (PLAN_LINE, f"{plan.name} plan - {label}", sub_id, plan.id, start_iso, end_iso, 1)
        lines = [plan_line + (price, price)]
        error_cents = 0
        if error == DUPLICATE:
            lines.append(plan_line + (price, price))
            error_cents = price
        elif error == PRICE:
            delta = rng.choice(PRICE_DELTAS)
            lines[0] = plan_line + (price + delta, price + delta)
            error_cents = delta
        elif error == AFTER_CANCEL:
            error_cents = price
        elif error == LATE_FEE:
            error_cents = LATE_FEE_CENTS

        base = sum(line[-1] for line in lines)
        payments: List[Tuple[int, str]] = []
        if error is None and rng.random() < 0.01:
            kind, description, cents = rng.choice(ONE_OFF)
            lines.append((kind, description, None, None, None, None, 1, cents, cents))
            base += cents
        if error == LATE_FEE:
            lines.append((LATE_FEE_LINE, "Late payment fee", None, None, None, None, 1,
                          LATE_FEE_CENTS, LATE_FEE_CENTS))
            paid_on = due - timedelta(days=_randint(rng, 0, 10))
            payments.append((base, _ts(paid_on, _randint(rng, 8, 20), _randint(rng, 0, 59))))
        elif error is None and latest and rng.random() < 0.03:
            pass  # unpaid, overdue
        elif error is None and rng.random() < 0.02 and due + timedelta(days=26) < self.today:
            late_on = due + timedelta(days=_randint(rng, 10, 25))
            lines.append((LATE_FEE_LINE, "Late payment fee", None, None, None, None, 1,
                          LATE_FEE_CENTS, LATE_FEE_CENTS))
            payments.append((base + LATE_FEE_CENTS, _ts(late_on, _randint(rng, 8, 20), _randint(rng, 0, 59))))
        else:
            paid_on = start + timedelta(days=_randint(rng, 0, DUE_AFTER_DAYS - 1))
            if error == DUPLICATE and rng.random() < 0.5:
                half = base // 2
                payments.append((half, _ts(paid_on, 9, 30)))
                payments.append((base - half, _ts(paid_on, 9, 31)))
            else:
                payments.append((base, _ts(paid_on, _randint(rng, 8, 20), _randint(rng, 0, 59))))

        total = sum(line[-1] for line in lines)
        paid = sum(amount for amount, _ in payments)
        status = PAID if paid >= total else OPEN
        rows["invoices"].append((inv_id, number, cid, sub_id, start_iso, end_iso, start_iso, due_iso, status, "USD",
                                 total, 0, total, 1, self.now))
        for line in lines:
            rows["invoice_lines"].append((self._next("invoice_lines"), inv_id) + line)
        for amount, received in payments:
            pid = self._next("payments")
            rows["payments"].append((pid, cid, inv_id, method, detail, amount, received, f"gen_{pid:010d}", self.now))
        if error is not None:
            rows["seeded_errors"].append((self._next("seeded_errors"), inv_id, error, error_cents, "generated"))


def _sub_status(cancelled_at: Optional[str]) -> str:
    return (SubscriptionStatus.CANCELLED if cancelled_at else SubscriptionStatus.ACTIVE).value


def count_rows(batches: Sequence[Batch]) -> Dict[str, int]:
    """Rows per table over ``batches`` (for reports)."""
    return {table: sum(len(b.rows[table]) for b in batches) for table in COLUMNS}
