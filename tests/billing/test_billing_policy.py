"""Policies from policy.yml: authority limits, payment-plan schedules and offers, goodwill."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.billing.errors import InvalidRequest
from bot.billing.policy import (
    bot_can_correct,
    can_correct,
    goodwill_credit,
    load_policy,
    payment_plan_offers,
    payment_plan_schedule,
    plan_allowed,
)

D = Decimal
TODAY = date(2025, 1, 31)


def test_default_policy_values_are_exact_decimals() -> None:
    p = load_policy()
    assert p.authority.bot_max_correction == D("500.00") and type(p.authority.bot_max_correction) is Decimal
    assert p.authority.agent_max_correction == D("5000.00")
    assert (p.payment_plans.min_installments, p.payment_plans.max_installments) == (2, 6)
    assert p.payment_plans.min_installment_amount == D("50.00")
    assert p.payment_plans.first_due_within_days == 14 and p.payment_plans.max_balance == D("3000.00")
    assert (p.goodwill.amount, p.goodwill.min_tenure_years) == (D("5.00"), 5)


@pytest.mark.parametrize("amount,kind,already,allowed", [
    ("500.00", "bot", "0", True),
    ("500.01", "bot", "0", False),
    ("79.00", "bot", "450.00", False),
    ("2500.00", "bot", "0", False),
    ("2500.00", "agent", "0", True),
    ("5000.00", "agent", "0", True),
    ("5000.01", "agent", "0", False),
    ("0.00", "agent", "0", False),
])
def test_can_correct_limits(amount: str, kind: str, already: str, allowed: bool) -> None:
    assert bool(can_correct(amount, actor_kind=kind, already_corrected=already)) is allowed


def test_bot_needs_ledger_confirmation() -> None:
    assert not bot_can_correct("49.00", confirmed_by_ledger=False)
    assert can_correct("49.00", actor_kind="agent", confirmed_by_ledger=False)
    assert "limit of $500.00" in bot_can_correct("501.00").reason
    with pytest.raises(InvalidRequest):
        can_correct("1.00", actor_kind="customer")


@pytest.mark.parametrize("balance,n,allowed", [
    ("1240.00", 2, True), ("1240.00", 6, True), ("1240.00", 1, False), ("1240.00", 7, False),
    ("100.00", 2, True), ("100.00", 3, False), ("99.99", 2, False), ("3000.00", 6, True),
    ("3000.01", 6, False), ("0.00", 2, False),
])
def test_plan_allowed(balance: str, n: int, allowed: bool) -> None:
    assert bool(plan_allowed(balance, n)) is allowed


def test_agent_may_plan_larger_balances() -> None:
    assert not plan_allowed("4000.00", 6, actor_kind="bot")
    assert plan_allowed("4000.00", 6, actor_kind="agent")
    assert not plan_allowed("5000.01", 6, actor_kind="agent")


def test_schedules_sum_exactly_with_cents_on_last_installment() -> None:
    for cents in list(range(10000, 10100)) + [124000, 100001, 299999, 300000, 33333]:
        balance = D(cents) / 100
        for n in range(2, 7):
            s = payment_plan_schedule(balance, n, today=TODAY)
            amounts = [i.amount for i in s.installments]
            assert sum(amounts) == balance and s.count == n
            assert all(a == amounts[0] for a in amounts[:-1]) and 0 <= amounts[-1] - amounts[0] < D("0.01") * n
            assert all(type(a) is Decimal and a == a.quantize(D("0.01")) for a in amounts)


def test_priya_offers() -> None:
    offers = payment_plan_offers("1240.00", today=TODAY)
    assert [o.count for o in offers] == [2, 4, 6]
    assert [[i.amount for i in o.installments] for o in offers] == [
        [D("620.00")] * 2, [D("310.00")] * 4, [D("206.66")] * 5 + [D("206.70")]]
    for o in offers:
        assert sum(i.amount for i in o.installments) == D("1240.00")
        assert TODAY < o.first_due_date <= TODAY + timedelta(days=14)
        assert all(i.amount >= D("50.00") for i in o.installments)
        # monthly, anchored on the first due date (Feb 7, Mar 7, ...)
        assert [i.due_date for i in o.installments][:2] == [date(2025, 2, 7), date(2025, 3, 7)]


def test_offers_respect_minimum_and_maximum() -> None:
    assert [o.count for o in payment_plan_offers("120.00", today=TODAY)] == [2]
    assert payment_plan_offers("80.00", today=TODAY) == []
    assert payment_plan_offers("3500.00", today=TODAY) == []
    assert [o.count for o in payment_plan_offers("3500.00", today=TODAY, actor_kind="agent")] == [2, 4, 6]


def test_first_due_date_must_be_within_14_days() -> None:
    ok = payment_plan_schedule("300.00", 3, today=TODAY, first_due=TODAY + timedelta(days=14))
    assert ok.first_due_date == TODAY + timedelta(days=14)
    with pytest.raises(InvalidRequest):
        payment_plan_schedule("300.00", 3, today=TODAY, first_due=TODAY + timedelta(days=15))
    with pytest.raises(InvalidRequest):
        payment_plan_schedule("300.00", 3, today=TODAY, first_due=TODAY - timedelta(days=1))


def test_goodwill() -> None:
    assert goodwill_credit(8, we_were_at_fault=True) == D("5.00")
    assert goodwill_credit(5, we_were_at_fault=True) == D("5.00")
    assert goodwill_credit(4, we_were_at_fault=True) is None
    assert goodwill_credit(8, we_were_at_fault=False) is None


def test_policy_file_override(policy_file) -> None:
    policy_file(payment_plans__rounding_installment="first", authority__bot__max_correction="40.00")
    p = load_policy()
    assert p.authority.bot_max_correction == D("40.00")
    s = payment_plan_schedule("100.00", 3, today=TODAY)
    assert [i.amount for i in s.installments] == [D("33.34"), D("33.33"), D("33.33")]


def test_invalid_policy_is_rejected(policy_file) -> None:
    policy_file(payment_plans__min_installments=7)
    with pytest.raises(ValueError):
        load_policy()
    policy_file(authority__bot__max_correction="12.345")
    with pytest.raises(ValueError):
        load_policy()
