"""Plain, immutable results returned to callers (Rasa actions, the agent console).

No ORM objects leave the billing core: callers never hold sessions. Amounts are ``Decimal``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, Mapping, Optional, Tuple, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class CustomerDTO:
    id: int
    account_number: str
    name: str
    email: str
    phone: str
    postal_code: str
    customer_since: date


@dataclass(frozen=True)
class InvoiceLineDTO:
    id: int
    kind: str
    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    period_start: Optional[date]
    period_end: Optional[date]
    plan_code: Optional[str]


@dataclass(frozen=True)
class PaymentDTO:
    id: int
    method: str
    method_detail: Optional[str]
    amount: Decimal
    received_at: datetime
    external_reference: str


@dataclass(frozen=True)
class InvoiceDTO:
    id: int
    number: str
    account_number: str
    customer_name: str
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    status: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    prices_include_tax: bool
    amount_paid: Decimal
    balance_due: Decimal
    overdue: bool
    lines: Tuple[InvoiceLineDTO, ...]
    payments: Tuple[PaymentDTO, ...]


@dataclass(frozen=True)
class OpenInvoiceDTO:
    number: str
    issue_date: date
    due_date: date
    total: Decimal
    balance_due: Decimal
    overdue: bool
    days_overdue: int


@dataclass(frozen=True)
class BalanceDTO:
    """What a customer owes: ``total_owed`` (positive invoice balances), of which ``overdue_amount``
    is past due; ``credit_available`` is credit waiting for the next invoice."""

    account_number: str
    total_owed: Decimal
    overdue_amount: Decimal
    credit_available: Decimal
    next_due_date: Optional[date]
    invoices: Tuple[OpenInvoiceDTO, ...]


@dataclass(frozen=True)
class RecognitionFacts:
    """Facts to recognise a customer: tenure and payment history."""

    account_number: str
    name: str
    customer_since: date
    tenure_years: int
    plan_name: Optional[str]
    invoices_due: int  # invoices whose due date has passed
    paid_on_time: int  # of those, paid in full by the due date (+ grace)
    on_time_ratio: Decimal  # paid_on_time / invoices_due, 4 places; 1 when nothing was due yet
    always_paid_on_time: bool


@dataclass(frozen=True)
class CorrectionDTO:
    reference: str
    kind: str
    status: str
    amount: Decimal
    invoice_number: str
    account_number: str
    method: Optional[str]
    method_detail: Optional[str]
    is_goodwill: bool
    reason: str
    expected_by: Optional[date]
    created_at: datetime
    dispute_reference: Optional[str] = None


@dataclass(frozen=True)
class DisputeDTO:
    reference: str
    account_number: str
    invoice_number: str
    reason_code: str
    reason: str
    disputed_amount: Decimal
    status: str
    outcome: Optional[str]
    resolved_amount: Optional[Decimal]
    created_at: datetime
    resolved_at: Optional[datetime]


@dataclass(frozen=True)
class InstallmentDTO:
    sequence: int
    due_date: date
    amount: Decimal
    status: str


@dataclass(frozen=True)
class PaymentPlanDTO:
    reference: str
    account_number: str
    total_amount: Decimal
    status: str
    installments: Tuple[InstallmentDTO, ...]
    invoice_numbers: Tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class HandoffDTO:
    id: int
    reference: str
    conversation_id: str
    account_number: Optional[str]
    reason_code: str
    status: str
    summary: Optional[str]
    context: Mapping[str, Any]
    assigned_agent: Optional[str]
    note: Optional[str]
    created_at: datetime
    updated_at: datetime
    resolved_at: Optional[datetime]
    claimed_at: Optional[datetime] = None
    outcome: Optional[str] = None


@dataclass(frozen=True)
class InteractionDTO:
    id: int
    conversation_id: str
    sender_id: str
    channel: str
    actor: str
    actor_id: Optional[str]
    text: str
    account_number: Optional[str]
    created_at: datetime


@dataclass(frozen=True)
class OperationResult(Generic[T]):
    """What an operation returns. ``replayed`` is True when the idempotency key had been used
    before and the stored result is returned without changing anything."""

    reference: str
    operation: str
    replayed: bool
    record: T = field(repr=True)
