"""Ledger findings: demo invoices, precision/recall 1.0 on generated data, and each rule."""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.billing.dates import add_months, human_date, month_start
from bot.billing.db import session_scope
from bot.billing.findings import InvoiceFacts, LineFact, detect, findings_for_invoice, scan_findings
from bot.billing.models import Invoice, SeededError
from bot.billing.seed.demo import aisha_cancelled_at
from tests.billing.support import GENERATED_CUSTOMERS, SEED_DAY, assert_no_floats

D = Decimal


def test_maria_duplicate(seeded_ro: str) -> None:
    [f] = findings_for_invoice("INV-0142", database_url=seeded_ro)
    assert (f.kind, f.amount) == ("duplicate_line", D("49.00"))
    assert f.explanation == "INV-0142 charged the Standard plan twice: $98.00 instead of $49.00."


def test_james_late_fee(seeded_ro: str) -> None:
    [f] = findings_for_invoice("inv 207", database_url=seeded_ro)
    assert (f.kind, f.amount) == ("late_fee_despite_payment", D("25.00"))
    due = add_months(month_start(SEED_DAY), -1).replace(day=15)
    assert f.explanation == (f"INV-0207 added a $25.00 late fee although the payment of $49.00 arrived on "
                             f"{human_date(due)}, the due date.")


def test_aisha_after_cancellation(seeded_ro: str) -> None:
    [f] = findings_for_invoice("INV-0501", database_url=seeded_ro)
    assert (f.kind, f.amount) == ("charge_after_cancellation", D("79.00"))
    cancelled = aisha_cancelled_at(SEED_DAY).date()
    billed = add_months(month_start(SEED_DAY), -1)
    assert f.explanation == (f"INV-0501 charged $79.00 for the Premium plan for {billed:%B %Y}, "
                             f"after the plan was cancelled on {human_date(cancelled)}.")


@pytest.mark.parametrize("number", ["INV-0455", "INV-0610", "INV-0311", "INV-0388", "INV-0141"])
def test_correct_or_unjudgeable_invoices_have_no_findings(seeded_ro: str, number: str) -> None:
    # INV-0455's $2,500.00 equipment charge is disputed, but the ledger has no rule that marks it wrong.
    assert findings_for_invoice(number, database_url=seeded_ro) == []


def test_unknown_invoice(seeded_ro: str) -> None:
    assert findings_for_invoice("INV-9999", database_url=seeded_ro) is None
    assert findings_for_invoice("hello", database_url=seeded_ro) is None


@pytest.mark.parametrize("grace_days", [0, 3, 7])
def test_precision_and_recall_on_generated_data(seeded_ro: str, grace_days: int) -> None:
    found = Counter((f.invoice_number, f.kind, f.amount)
                    for f in scan_findings(database_url=seeded_ro, grace_days=grace_days))
    with session_scope(seeded_ro) as s:
        truth = Counter(s.execute(select(Invoice.number, SeededError.kind, SeededError.amount)
                                  .join(Invoice, Invoice.id == SeededError.invoice_id)).all())
        invoices = len(s.execute(select(Invoice.id)).all())
    assert invoices >= 10 * GENERATED_CUSTOMERS
    assert len(truth) > 100
    true_positives = sum((found & truth).values())
    precision = true_positives / sum(found.values())
    recall = true_positives / sum(truth.values())
    assert (precision, recall) == (1.0, 1.0), (found - truth, truth - found)
    assert {kind for _, kind, _ in truth} == {"duplicate_line", "late_fee_despite_payment",
                                              "charge_after_cancellation", "price_mismatch"}


# --- each rule on hand-made facts --------------------------------------------------------------

def _plan(line_id: int, price: str = "49.00", start: date = date(2025, 3, 1), sub: int = 7) -> LineFact:
    return LineFact(line_id, "plan", "Standard plan - March 2025", sub, 1, start, date(2025, 3, 31), 1,
                    D(price), D(price), plan_name="Standard", plan_price=D("49.00"))


def _fee(line_id: int) -> LineFact:
    return LineFact(line_id, "late_fee", "Late payment fee", None, None, None, None, 1, D("25.00"), D("25.00"))


def _facts(*lines: LineFact, payments=(), cancelled=None) -> InvoiceFacts:
    return InvoiceFacts("INV-0001", date(2025, 3, 15), tuple(lines), tuple(payments), {7: cancelled})


def test_rule_late_fee_grace_period() -> None:
    two_days_late = _facts(_plan(1), _fee(2), payments=[(D("49.00"), date(2025, 3, 17))])
    assert detect(two_days_late, grace_days=0) == []
    [f] = detect(two_days_late, grace_days=3)
    assert f.amount == D("25.00") and "grace period" in f.explanation
    really_late = _facts(_plan(1), _fee(2), payments=[(D("74.00"), date(2025, 4, 2))])
    assert detect(really_late, grace_days=7) == []
    partly_paid = _facts(_plan(1), _fee(2), payments=[(D("20.00"), date(2025, 3, 10))])
    assert detect(partly_paid, grace_days=3) == []


def test_rule_duplicate_three_times_and_distinct_periods() -> None:
    [f] = detect(_facts(_plan(1), _plan(2), _plan(3)), grace_days=0)
    assert (f.kind, f.amount, f.line_ids) == ("duplicate_line", D("98.00"), (2, 3))
    assert "three times: $147.00 instead of $49.00" in f.explanation
    assert detect(_facts(_plan(1), _plan(2, start=date(2025, 2, 1))), grace_days=0) == []


def test_rule_price_mismatch_over_and_under() -> None:
    [over] = detect(_facts(_plan(1, "59.00")), grace_days=0)
    assert (over.kind, over.amount, over.overcharge) == ("price_mismatch", D("10.00"), True)
    assert over.explanation == "INV-0001 charged $59.00 for the Standard plan instead of the plan price of $49.00."
    [under] = detect(_facts(_plan(1, "45.00")), grace_days=0)
    assert (under.amount, under.overcharge) == (D("4.00"), False)


def test_rule_after_cancellation_takes_precedence() -> None:
    cancelled = datetime(2025, 2, 20, 16, 0)
    found = detect(_facts(_plan(1), _plan(2), cancelled=cancelled), grace_days=0)
    assert [(f.kind, f.amount) for f in found] == [("charge_after_cancellation", D("49.00"))] * 2
    # cancelled during the billed month: that month is still owed
    assert detect(_facts(_plan(1), cancelled=datetime(2025, 3, 2, 9, 0)), grace_days=0) == []


def test_findings_hold_no_floats(seeded_ro: str) -> None:
    findings = [f for n in ("INV-0142", "INV-0207", "INV-0501")
                for f in findings_for_invoice(n, database_url=seeded_ro)]
    assert assert_no_floats(findings) == 3
    assert all(type(f.amount) is Decimal for f in findings)
