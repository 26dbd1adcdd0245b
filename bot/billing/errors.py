"""Typed exceptions raised by billing operations (lookups return ``None`` instead)."""
from __future__ import annotations

from decimal import Decimal


class BillingError(Exception):
    """Base class; ``str(error)`` is a plain sentence that can be logged or shown to an agent."""


class NotFound(BillingError):
    """The invoice, customer, dispute or handoff does not exist."""


class InvalidRequest(BillingError):
    """The request itself is malformed (bad amount, unknown outcome, empty key...)."""


class AuthorityExceeded(BillingError):
    """The amount is above what this actor (bot or agent) may decide; hand off to someone who can."""

    def __init__(self, actor_kind: str, amount: Decimal, limit: Decimal, message: str = "") -> None:
        self.actor_kind = actor_kind
        self.amount = amount
        self.limit = limit
        super().__init__(
            message or f"{actor_kind} authority is limited to ${limit:,.2f}; ${amount:,.2f} requested"
        )


class NotConfirmedByLedger(BillingError):
    """The bot may only correct errors the ledger confirms, and this one is not confirmed."""


class ExceedsCorrectable(BillingError):
    """More than was charged in error (or more than is left after earlier corrections/refunds)."""

    def __init__(self, requested: Decimal, available: Decimal, message: str = "") -> None:
        self.requested = requested
        self.available = available
        super().__init__(
            message or f"only ${available:,.2f} can still be corrected; ${requested:,.2f} requested"
        )


class PolicyViolation(BillingError):
    """The request breaks a billing policy (payment-plan shape, goodwill eligibility...)."""


class IdempotencyConflict(BillingError):
    """The idempotency key was already used for a different request."""


class InvalidState(BillingError):
    """The object is not in a state that allows this (dispute already resolved...)."""
