"""Billing policies from ``policy.yml``: authority limits, payment plans, goodwill credit.

The functions here are pure (no database): they answer "can this actor do this amount?",
"is an N-month plan allowed for this balance?" and build concrete payment-plan offers whose
installments sum exactly to the balance.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple, Union

import yaml

from bot.billing.dates import add_months, today_utc
from bot.billing.errors import InvalidRequest
from bot.billing.kinds import ActorKind
from bot.billing.money import CENT, ZERO, MoneyInput, format_usd, to_money

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent / "policy.yml"


@dataclass(frozen=True)
class AuthorityPolicy:
    bot_max_correction: Decimal
    agent_max_correction: Decimal
    bot_requires_ledger_confirmation: bool


@dataclass(frozen=True)
class PaymentPlanPolicy:
    min_installments: int
    max_installments: int
    min_installment_amount: Decimal
    first_due_within_days: int
    default_first_due_in_days: int
    max_balance: Decimal
    agent_max_balance: Decimal
    offers: int
    rounding_installment: str


@dataclass(frozen=True)
class GoodwillPolicy:
    enabled: bool
    amount: Decimal
    min_tenure_years: int
    requires_our_fault: bool


@dataclass(frozen=True)
class Policy:
    currency: str
    authority: AuthorityPolicy
    payment_plans: PaymentPlanPolicy
    goodwill: GoodwillPolicy
    late_fee_grace_days: int
    refund_settlement_days: int


@dataclass(frozen=True)
class Decision:
    """A yes/no answer with a plain-sentence reason (for logs, agents and bot replies)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class Installment:
    sequence: int
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class PlanSchedule:
    """A concrete payment-plan offer: installments that sum exactly to ``total``."""

    total: Decimal
    installments: Tuple[Installment, ...]

    @property
    def count(self) -> int:
        return len(self.installments)

    @property
    def first_due_date(self) -> date:
        return self.installments[0].due_date

    def describe(self) -> str:
        """``3 monthly payments: $413.33 on ..., ...``."""
        parts = ", ".join(f"{format_usd(i.amount)} on {i.due_date.isoformat()}" for i in self.installments)
        return f"{self.count} monthly payments: {parts}"


def _money(raw: Any, name: str) -> Decimal:
    if isinstance(raw, float):  # unquoted YAML number: accept if it is an exact cent amount
        raw = repr(raw)
    try:
        return to_money(raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"policy {name}: {exc}") from exc


def _parse(data: Mapping[str, Any]) -> Policy:
    auth, plans, goodwill = data["authority"], data["payment_plans"], data["goodwill"]
    policy = Policy(
        currency=str(data.get("currency", "USD")),
        authority=AuthorityPolicy(
            bot_max_correction=_money(auth["bot"]["max_correction"], "authority.bot.max_correction"),
            agent_max_correction=_money(auth["agent"]["max_correction"], "authority.agent.max_correction"),
            bot_requires_ledger_confirmation=bool(auth["bot"].get("requires_ledger_confirmation", True)),
        ),
        payment_plans=PaymentPlanPolicy(
            min_installments=int(plans["min_installments"]),
            max_installments=int(plans["max_installments"]),
            min_installment_amount=_money(plans["min_installment_amount"], "min_installment_amount"),
            first_due_within_days=int(plans["first_due_within_days"]),
            default_first_due_in_days=int(plans["default_first_due_in_days"]),
            max_balance=_money(plans["max_balance"], "payment_plans.max_balance"),
            agent_max_balance=_money(plans["agent_max_balance"], "payment_plans.agent_max_balance"),
            offers=int(plans.get("offers", 3)),
            rounding_installment=str(plans.get("rounding_installment", "last")),
        ),
        goodwill=GoodwillPolicy(
            enabled=bool(goodwill["enabled"]),
            amount=_money(goodwill["amount"], "goodwill.amount"),
            min_tenure_years=int(goodwill["min_tenure_years"]),
            requires_our_fault=bool(goodwill.get("requires_our_fault", True)),
        ),
        late_fee_grace_days=int(data["findings"]["late_fee_grace_days"]),
        refund_settlement_days=int(data["refunds"]["settlement_days"]),
    )
    p = policy.payment_plans
    if not 1 <= p.min_installments <= p.max_installments:
        raise ValueError("policy payment_plans: need 1 <= min_installments <= max_installments")
    if not 0 <= p.default_first_due_in_days <= p.first_due_within_days:
        raise ValueError("policy payment_plans: default_first_due_in_days must be <= first_due_within_days")
    if p.rounding_installment not in ("first", "last"):
        raise ValueError("policy payment_plans.rounding_installment must be 'first' or 'last'")
    return policy


@lru_cache(maxsize=8)
def _load(path: str) -> Policy:
    with open(path, encoding="utf-8") as handle:
        return _parse(yaml.safe_load(handle))


def load_policy(path: Union[str, Path, None] = None) -> Policy:
    """The policy from ``path``, ``BILLING_POLICY_FILE`` or ``bot/billing/policy.yml`` (cached)."""
    chosen = path or os.environ.get("BILLING_POLICY_FILE") or DEFAULT_POLICY_FILE
    return _load(str(Path(chosen).resolve()))


def _actor(actor_kind: Union[str, ActorKind]) -> str:
    kind = ActorKind(actor_kind).value
    if kind == ActorKind.CUSTOMER.value:
        raise InvalidRequest("customers cannot make billing corrections")
    return kind


def correction_limit(actor_kind: Union[str, ActorKind], policy: Optional[Policy] = None) -> Decimal:
    """Largest total correction ``actor_kind`` (``bot`` or ``agent``) may make per dispute."""
    policy = policy or load_policy()
    if _actor(actor_kind) == ActorKind.BOT.value:
        return policy.authority.bot_max_correction
    return policy.authority.agent_max_correction


def can_correct(
    amount: MoneyInput,
    *,
    actor_kind: Union[str, ActorKind] = ActorKind.BOT,
    already_corrected: MoneyInput = ZERO,
    confirmed_by_ledger: bool = True,
    policy: Optional[Policy] = None,
) -> Decision:
    """Can ``actor_kind`` correct ``amount`` (on top of ``already_corrected`` for the same dispute)?"""
    policy = policy or load_policy()
    amount, already = to_money(amount), to_money(already_corrected)
    if amount <= ZERO:
        return Decision(False, "The amount must be positive.")
    kind = _actor(actor_kind)
    if kind == ActorKind.BOT.value and policy.authority.bot_requires_ledger_confirmation and not confirmed_by_ledger:
        return Decision(False, "The bot can only correct errors the ledger confirms.")
    limit = correction_limit(kind, policy)
    if amount + already > limit:
        return Decision(
            False,
            f"{format_usd(amount + already)} in corrections is above the {kind}'s limit of {format_usd(limit)}.",
        )
    return Decision(True, f"{format_usd(amount)} is within the {kind}'s limit of {format_usd(limit)}.")


def bot_can_correct(amount: MoneyInput, *, already_corrected: MoneyInput = ZERO,
                    confirmed_by_ledger: bool = True, policy: Optional[Policy] = None) -> Decision:
    """Shortcut for ``can_correct(..., actor_kind="bot")``."""
    return can_correct(amount, actor_kind=ActorKind.BOT, already_corrected=already_corrected,
                       confirmed_by_ledger=confirmed_by_ledger, policy=policy)


def plan_balance_limit(actor_kind: Union[str, ActorKind], policy: Optional[Policy] = None) -> Decimal:
    """Largest balance ``actor_kind`` may put on a payment plan."""
    policy = policy or load_policy()
    if _actor(actor_kind) == ActorKind.BOT.value:
        return policy.payment_plans.max_balance
    return policy.payment_plans.agent_max_balance


def plan_allowed(
    balance: MoneyInput,
    installments: int,
    *,
    actor_kind: Union[str, ActorKind] = ActorKind.BOT,
    policy: Optional[Policy] = None,
) -> Decision:
    """Is an ``installments``-month plan allowed for ``balance``?"""
    policy = policy or load_policy()
    p = policy.payment_plans
    balance = to_money(balance)
    if balance <= ZERO:
        return Decision(False, "There is no balance to spread over a payment plan.")
    if not p.min_installments <= installments <= p.max_installments:
        return Decision(False, f"Payment plans have {p.min_installments} to {p.max_installments} monthly installments.")
    limit = plan_balance_limit(actor_kind, policy)
    if balance > limit:
        return Decision(False, f"Balances above {format_usd(limit)} need a person to agree a payment plan.")
    smallest = (balance / installments).quantize(CENT, rounding=ROUND_DOWN)
    if smallest < p.min_installment_amount:
        return Decision(
            False, f"{installments} installments of {format_usd(balance)} would be below the "
                   f"{format_usd(p.min_installment_amount)} minimum per installment.")
    return Decision(True, f"{installments} monthly installments are allowed for {format_usd(balance)}.")


def _first_due(today: date, first_due: Optional[date], p: PaymentPlanPolicy) -> date:
    if first_due is None:
        return today + timedelta(days=p.default_first_due_in_days)
    if not today <= first_due <= today + timedelta(days=p.first_due_within_days):
        raise InvalidRequest(f"The first installment must be due within {p.first_due_within_days} days.")
    return first_due


def payment_plan_schedule(
    balance: MoneyInput,
    installments: int,
    *,
    today: Optional[date] = None,
    first_due: Optional[date] = None,
    policy: Optional[Policy] = None,
) -> PlanSchedule:
    """Split ``balance`` into ``installments`` monthly amounts that sum exactly to it.

    Every installment gets ``balance / n`` rounded down to the cent; the left-over cents go on the
    last (or first, per policy) installment. Does not check :func:`plan_allowed`.
    """
    policy = policy or load_policy()
    p = policy.payment_plans
    balance = to_money(balance)
    if installments < 1:
        raise InvalidRequest("A payment plan needs at least one installment.")
    start = _first_due(today or today_utc(), first_due, p)
    base = (balance / installments).quantize(CENT, rounding=ROUND_DOWN)
    amounts: List[Decimal] = [base] * installments
    remainder = balance - base * installments
    amounts[-1 if p.rounding_installment == "last" else 0] += remainder
    items = tuple(
        Installment(sequence=i + 1, due_date=add_months(start, i), amount=amount)
        for i, amount in enumerate(amounts)
    )
    return PlanSchedule(total=balance, installments=items)


def payment_plan_offers(
    balance: MoneyInput,
    *,
    today: Optional[date] = None,
    first_due: Optional[date] = None,
    actor_kind: Union[str, ActorKind] = ActorKind.BOT,
    policy: Optional[Policy] = None,
) -> List[PlanSchedule]:
    """Up to ``offers`` (3) allowed schedules: the shortest, the longest and one in between.

    Returns an empty list when no plan is allowed (balance too small, too large for the actor...).
    """
    policy = policy or load_policy()
    p = policy.payment_plans
    allowed = [
        n for n in range(p.min_installments, p.max_installments + 1)
        if plan_allowed(balance, n, actor_kind=actor_kind, policy=policy)
    ]
    if len(allowed) > p.offers:
        picks = {allowed[0], allowed[-1]}
        step = (len(allowed) - 1) / (p.offers - 1)
        picks.update(allowed[int(round(step * i))] for i in range(1, p.offers - 1))
        allowed = sorted(picks)
    return [payment_plan_schedule(balance, n, today=today, first_due=first_due, policy=policy) for n in allowed]


def goodwill_credit(tenure_years: int, *, we_were_at_fault: bool, policy: Optional[Policy] = None) -> Optional[Decimal]:
    """The goodwill credit a customer qualifies for, or ``None``."""
    g = (policy or load_policy()).goodwill
    if not g.enabled or tenure_years < g.min_tenure_years:
        return None
    if g.requires_our_fault and not we_were_at_fault:
        return None
    return g.amount
