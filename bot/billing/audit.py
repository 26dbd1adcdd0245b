"""Write audit-log entries (inside the caller's unit of work)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Optional

from sqlalchemy.orm import Session

from bot.billing.dates import utcnow
from bot.billing.models import AuditEntry


def audit(
    session: Session,
    *,
    actor_kind: str,
    actor_id: str,
    action: str,
    reason: str,
    reference: str,
    customer_id: int,
    amount: Decimal,
    idempotency_key: Optional[str],
    invoice_id: Optional[int] = None,
    balance_before: Optional[Decimal] = None,
    balance_after: Optional[Decimal] = None,
    details: Optional[Mapping[str, Any]] = None,
) -> AuditEntry:
    """Record who (bot/agent + id) did what, why, with which key, for how much, under which reference."""
    entry = AuditEntry(
        created_at=utcnow(), actor_kind=actor_kind, actor_id=actor_id, action=action, reason=reason,
        idempotency_key=idempotency_key, reference=reference, customer_id=customer_id, invoice_id=invoice_id,
        amount=amount, currency="USD", balance_before=balance_before, balance_after=balance_after,
        details=dict(details) if details else None)
    session.add(entry)
    return entry
