"""ORM models of the billing ledger (SQLAlchemy 1.4, used 2.0-style)."""
from bot.billing.models.base import Base, metadata
from bot.billing.models.cases import (
    Correction,
    Dispute,
    PaymentPlan,
    PaymentPlanInstallment,
    PaymentPlanInvoice,
)
from bot.billing.models.customers import Customer, Plan, PlanPrice, Subscription
from bot.billing.models.ledger import Invoice, InvoiceLine, Payment
from bot.billing.models.records import (
    AgentAccount,
    AuditEntry,
    BillingMeta,
    Handoff,
    IdempotencyKey,
    Interaction,
    SeededError,
)

__all__ = [
    "AgentAccount",
    "AuditEntry",
    "Base",
    "BillingMeta",
    "Correction",
    "Customer",
    "Dispute",
    "Handoff",
    "IdempotencyKey",
    "Interaction",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "PaymentPlan",
    "PaymentPlanInstallment",
    "PaymentPlanInvoice",
    "Plan",
    "PlanPrice",
    "SeededError",
    "Subscription",
    "metadata",
]
