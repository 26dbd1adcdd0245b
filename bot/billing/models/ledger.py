"""Invoices, invoice lines and payments."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String

from bot.billing.dates import utcnow
from bot.billing.models.base import Base
from bot.billing.money import Money


class Invoice(Base):
    """A monthly invoice. ``total`` includes tax (prices include tax, so ``tax_amount`` is 0)."""

    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_customer_id_period_start", "customer_id", "period_start"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(20), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    subscription_id = Column(Integer, ForeignKey("subscriptions.id"), nullable=True)
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    issue_date = Column(Date, nullable=False)
    due_date = Column(Date, nullable=False)
    status = Column(String(10), nullable=False)
    currency = Column(String(3), nullable=False, default="USD")
    subtotal = Column(Money, nullable=False)
    tax_amount = Column(Money, nullable=False)
    total = Column(Money, nullable=False)
    prices_include_tax = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class InvoiceLine(Base):
    """One charge on an invoice (plan month, late fee, equipment...)."""

    __tablename__ = "invoice_lines"

    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=False, index=True)
    kind = Column(String(20), nullable=False)
    description = Column(String(200), nullable=False)
    subscription_id = Column(Integer, ForeignKey("subscriptions.id"), nullable=True)
    plan_id = Column(Integer, ForeignKey("plans.id"), nullable=True)
    period_start = Column(Date, nullable=True)
    period_end = Column(Date, nullable=True)
    quantity = Column(Integer, nullable=False, default=1)
    unit_price = Column(Money, nullable=False)
    amount = Column(Money, nullable=False)


class Payment(Base):
    """Money received from the customer for an invoice."""

    __tablename__ = "payments"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=True, index=True)
    method = Column(String(20), nullable=False)
    method_detail = Column(String(60), nullable=True)
    amount = Column(Money, nullable=False)
    received_at = Column(DateTime, nullable=False)
    external_reference = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
