"""The plan catalogue with today's prices (read-only).

The billing core has no public lookup for the catalogue, so this small query lives here; it only
reads ``plans`` and ``plan_prices`` through the core's read scope.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Dict, Optional

from sqlalchemy import or_, select

from bot.billing.dates import today_utc
from bot.billing.db import read_scope
from bot.billing.models import Plan, PlanPrice


def plan_prices(*, database_url: Optional[str] = None, today: Optional[date] = None) -> Dict[str, Decimal]:
    """Plan name -> monthly price valid today, cheapest first (``{"Basic": Decimal("29.00"), ...}``)."""
    day = today or today_utc()
    query = (select(Plan.name, PlanPrice.amount).join(PlanPrice, PlanPrice.plan_id == Plan.id)
             .where(PlanPrice.valid_from <= day, or_(PlanPrice.valid_to.is_(None), PlanPrice.valid_to > day))
             .order_by(PlanPrice.amount, Plan.name))
    with read_scope(database_url) as session:
        return {name: amount for name, amount in session.execute(query).all()}
