"""Disputes, corrections (refunds, credit notes, fee reversals) and payment plans."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Text

from bot.billing.dates import utcnow
from bot.billing.models.base import Base
from bot.billing.money import Money


class Dispute(Base):
    """A customer's dispute of (part of) an invoice, and its outcome once decided."""

    __tablename__ = "disputes"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=False, index=True)
    reason_code = Column(String(40), nullable=False)
    reason = Column(Text, nullable=False)
    disputed_amount = Column(Money, nullable=False)
    status = Column(String(20), nullable=False)
    outcome = Column(String(20), nullable=True)
    resolved_amount = Column(Money, nullable=True)
    outcome_note = Column(Text, nullable=True)
    opened_by_kind = Column(String(10), nullable=False)
    opened_by_id = Column(String(100), nullable=False)
    resolved_by_kind = Column(String(10), nullable=True)
    resolved_by_id = Column(String(100), nullable=True)
    conversation_id = Column(String(100), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    resolved_at = Column(DateTime, nullable=True)


class Correction(Base):
    """Money given back: a refund to the original payment method, a credit note on the next
    invoice, or a fee reversal. ``is_goodwill`` marks goodwill credits (not an error correction)."""

    __tablename__ = "corrections"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    kind = Column(String(20), nullable=False)
    status = Column(String(20), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=False, index=True)
    dispute_id = Column(Integer, ForeignKey("disputes.id"), nullable=True, index=True)
    payment_id = Column(Integer, ForeignKey("payments.id"), nullable=True, index=True)
    applied_invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=True)
    method = Column(String(20), nullable=True)
    method_detail = Column(String(60), nullable=True)
    amount = Column(Money, nullable=False)
    is_goodwill = Column(Boolean, nullable=False, default=False)
    reason = Column(Text, nullable=False)
    actor_kind = Column(String(10), nullable=False)
    actor_id = Column(String(100), nullable=False)
    expected_by = Column(Date, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    completed_at = Column(DateTime, nullable=True)


class PaymentPlan(Base):
    """An agreement to pay an outstanding balance in monthly installments."""

    __tablename__ = "payment_plans"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    total_amount = Column(Money, nullable=False)
    installments_count = Column(Integer, nullable=False)
    status = Column(String(20), nullable=False)
    first_due_date = Column(Date, nullable=False)
    actor_kind = Column(String(10), nullable=False)
    actor_id = Column(String(100), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class PaymentPlanInstallment(Base):
    """One scheduled installment of a payment plan."""

    __tablename__ = "payment_plan_installments"

    id = Column(Integer, primary_key=True)
    plan_id = Column(Integer, ForeignKey("payment_plans.id"), nullable=False, index=True)
    sequence = Column(Integer, nullable=False)
    due_date = Column(Date, nullable=False)
    amount = Column(Money, nullable=False)
    status = Column(String(20), nullable=False)


class PaymentPlanInvoice(Base):
    """Which invoices a payment plan covers."""

    __tablename__ = "payment_plan_invoices"

    plan_id = Column(Integer, ForeignKey("payment_plans.id"), primary_key=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), primary_key=True, index=True)
