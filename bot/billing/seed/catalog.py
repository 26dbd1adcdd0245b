"""The plan catalogue: monthly broadband plans Basic $29.00, Standard $49.00, Premium $79.00."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Dict

from sqlalchemy.orm import Session

from bot.billing.models import Plan, PlanPrice

PRICES_VALID_FROM = date(2015, 1, 1)

PLANS = (
    ("BASIC", "Basic", "Broadband up to 100 Mbps", Decimal("29.00")),
    ("STANDARD", "Standard", "Broadband up to 500 Mbps", Decimal("49.00")),
    ("PREMIUM", "Premium", "Fiber broadband up to 1 Gbps", Decimal("79.00")),
)


@dataclass(frozen=True)
class PlanInfo:
    id: int
    code: str
    name: str
    price: Decimal
    price_cents: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "price_cents", int(self.price * 100))


def seed_catalog(session: Session) -> Dict[str, PlanInfo]:
    """Insert the three plans and their prices; return them by code."""
    result = {}
    for code, name, description, price in PLANS:
        plan = Plan(code=code, name=name, description=description, billing_period="monthly")
        session.add(plan)
        session.flush()
        session.add(PlanPrice(plan_id=plan.id, amount=price, currency="USD", valid_from=PRICES_VALID_FROM))
        result[code] = PlanInfo(plan.id, code, name, price)
    session.flush()
    return result
