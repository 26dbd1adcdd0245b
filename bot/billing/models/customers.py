"""Customers, the plan catalogue (plans and dated prices) and subscriptions."""
from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint

from bot.billing.dates import utcnow
from bot.billing.models.base import Base
from bot.billing.money import Money


class Customer(Base):
    """A billing customer. ``email`` is stored lower-case, ``phone`` in E.164."""

    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    account_number = Column(String(20), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    email = Column(String(254), nullable=False, unique=True)
    phone = Column(String(16), nullable=False, index=True)
    postal_code = Column(String(12), nullable=False)
    customer_since = Column(Date, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Plan(Base):
    """A monthly broadband plan (``BASIC``, ``STANDARD``, ``PREMIUM``)."""

    __tablename__ = "plans"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(100), nullable=False)
    billing_period = Column(String(10), nullable=False, default="monthly")
    description = Column(String(300), nullable=True)


class PlanPrice(Base):
    """The price of a plan from ``valid_from`` until ``valid_to`` (exclusive; open when NULL)."""

    __tablename__ = "plan_prices"
    __table_args__ = (UniqueConstraint("plan_id", "valid_from"),)

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("plans.id"), nullable=False)
    amount = Column(Money, nullable=False)
    currency = Column(String(3), nullable=False, default="USD")
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date, nullable=True)


class Subscription(Base):
    """A customer's subscription to a plan; ``cancelled_at`` is set when it is cancelled."""

    __tablename__ = "subscriptions"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    plan_id = Column(Integer, ForeignKey("plans.id"), nullable=False)
    status = Column(String(20), nullable=False)
    started_on = Column(Date, nullable=False)
    cancelled_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
