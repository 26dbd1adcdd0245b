"""Vocabularies stored as strings in the database (``str`` enums compare equal to their values)."""
from __future__ import annotations

from enum import Enum


class FindingKind(str, Enum):
    """The ledger errors :mod:`bot.billing.findings` detects (and the seed injects)."""

    DUPLICATE_LINE = "duplicate_line"
    LATE_FEE_DESPITE_PAYMENT = "late_fee_despite_payment"
    CHARGE_AFTER_CANCELLATION = "charge_after_cancellation"
    PRICE_MISMATCH = "price_mismatch"


class LineKind(str, Enum):
    PLAN = "plan"
    LATE_FEE = "late_fee"
    EQUIPMENT = "equipment"
    INSTALLATION = "installation"
    OTHER = "other"


class InvoiceStatus(str, Enum):
    OPEN = "open"  # something is still owed (overdue is derived from due_date)
    PAID = "paid"
    VOID = "void"


class SubscriptionStatus(str, Enum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class PaymentMethod(str, Enum):
    CARD = "card"
    DIRECT_DEBIT = "direct_debit"
    BANK_TRANSFER = "bank_transfer"


class ActorKind(str, Enum):
    """Who acted. Money changes are made by the bot or an agent; customers only talk."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"


class CorrectionKind(str, Enum):
    REFUND = "refund"  # money back to the original payment method
    CREDIT_NOTE = "credit_note"  # deducted from the next invoice
    FEE_REVERSAL = "fee_reversal"  # a fee removed from the invoice that carries it


class CorrectionStatus(str, Enum):
    PENDING = "pending"  # refund on its way / credit waiting for the next invoice
    COMPLETED = "completed"  # refund settled / credit applied / fee reversed
    FAILED = "failed"


class DisputeStatus(str, Enum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeOutcome(str, Enum):
    UPHELD = "upheld"
    PARTIALLY_UPHELD = "partially_upheld"
    REJECTED = "rejected"


class PaymentPlanStatus(str, Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class InstallmentStatus(str, Enum):
    SCHEDULED = "scheduled"
    PAID = "paid"
    MISSED = "missed"


class HandoffStatus(str, Enum):
    OPEN = "open"
    ASSIGNED = "assigned"  # claimed by one agent
    RESOLVED = "resolved"
    HANDED_BACK = "handed_back"  # the agent returned the conversation to the bot
    CANCELLED = "cancelled"


class HandoffReason(str, Enum):
    ABOVE_AUTHORITY = "above_authority"  # amount above the bot's limit
    NOT_CONFIRMED = "not_confirmed_by_ledger"  # customer disputes something the ledger calls correct
    VERIFICATION_FAILED = "verification_failed"
    CUSTOMER_REQUEST = "customer_request"  # customer asked for a human
    POLICY_EXCEPTION = "policy_exception"  # e.g. a payment plan outside policy
    OTHER = "other"


class AuditAction(str, Enum):
    REFUND = "refund"
    CREDIT_NOTE = "credit_note"
    FEE_REVERSAL = "fee_reversal"
    GOODWILL_CREDIT = "goodwill_credit"
    PAYMENT_PLAN_CREATED = "payment_plan_created"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_RESOLVED = "dispute_resolved"


class Channel(str, Enum):
    REST = "rest"
    SHELL = "shell"
    SOCKETIO = "socketio"
    AGENT_CONSOLE = "agent_console"
    OTHER = "other"
