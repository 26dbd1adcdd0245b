"""Handoffs to human agents: create, list, get and update (status, assignee, note)."""
from __future__ import annotations

from typing import Any, List, Mapping, Optional

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.billing.dates import utcnow
from bot.billing.db import read_scope, unit_of_work
from bot.billing.dto import HandoffDTO
from bot.billing.errors import InvalidRequest, NotFound
from bot.billing.identifiers import normalise_account_number
from bot.billing.kinds import HandoffReason, HandoffStatus
from bot.billing.models import Customer, Handoff
from bot.billing.refs import new_reference

_CLOSED = (HandoffStatus.RESOLVED.value, HandoffStatus.CANCELLED.value, HandoffStatus.HANDED_BACK.value)


def _dto(session: Any, row: Handoff) -> HandoffDTO:
    account = session.execute(select(Customer.account_number).where(Customer.id == row.customer_id)).scalar() \
        if row.customer_id else None
    return HandoffDTO(row.id, row.reference, row.conversation_id, account, row.reason_code, row.status, row.summary,
                      dict(row.context or {}), row.assigned_agent, row.note, row.created_at, row.updated_at,
                      row.resolved_at, row.claimed_at, row.outcome)


def create_handoff(
    *,
    conversation_id: str,
    reason_code: str,
    context: Mapping[str, Any],
    account_number: Optional[str] = None,
    summary: Optional[str] = None,
    database_url: Optional[str] = None,
) -> HandoffDTO:
    """Open a handoff (status ``open``) with a reason code and JSON-serialisable context."""
    if reason_code not in {r.value for r in HandoffReason}:
        raise InvalidRequest(f"Unknown handoff reason {reason_code!r}.")
    for _ in range(3):
        try:
            with unit_of_work(database_url) as session:
                customer_id = None
                if account_number:
                    account = normalise_account_number(account_number)
                    customer_id = session.execute(select(Customer.id).where(Customer.account_number == account)
                                                  ).scalar() if account else None
                    if customer_id is None:
                        raise NotFound(f"There is no account {account_number!r}.")
                now = utcnow()
                row = Handoff(reference=new_reference("HND"), conversation_id=conversation_id, customer_id=customer_id,
                              reason_code=reason_code, status=HandoffStatus.OPEN.value, summary=summary,
                              context=dict(context), created_at=now, updated_at=now)
                session.add(row)
                session.flush()
                return _dto(session, row)
        except IntegrityError:  # reference collision: draw another
            continue
    raise RuntimeError("could not allocate a handoff reference")


def get_handoff(reference: str, *, database_url: Optional[str] = None) -> Optional[HandoffDTO]:
    """A handoff by reference (``HND-...``)."""
    with read_scope(database_url) as session:
        row = session.execute(select(Handoff).where(Handoff.reference == reference)).scalar_one_or_none()
        return _dto(session, row) if row else None


def list_handoffs(
    *,
    status: Optional[str] = None,
    account_number: Optional[str] = None,
    conversation_id: Optional[str] = None,
    limit: int = 50,
    database_url: Optional[str] = None,
) -> List[HandoffDTO]:
    """Handoffs, oldest first (the agent queue), filtered by status/account/conversation."""
    with read_scope(database_url) as session:
        query = select(Handoff)
        if status:
            query = query.where(Handoff.status == status)
        if conversation_id:
            query = query.where(Handoff.conversation_id == conversation_id)
        if account_number:
            account = normalise_account_number(account_number)
            query = query.join(Customer, Customer.id == Handoff.customer_id).where(Customer.account_number == account)
        rows = session.execute(query.order_by(Handoff.created_at, Handoff.id).limit(limit)).scalars().all()
        return [_dto(session, row) for row in rows]


def update_handoff(
    reference: str,
    *,
    status: Optional[str] = None,
    assigned_agent: Optional[str] = None,
    note: Optional[str] = None,
    outcome: Optional[str] = None,
    context_update: Optional[Mapping[str, Any]] = None,
    database_url: Optional[str] = None,
) -> HandoffDTO:
    """Change status / assignee / note / outcome, or merge keys into the context."""
    if status is not None and status not in {s.value for s in HandoffStatus}:
        raise InvalidRequest(f"Unknown handoff status {status!r}.")
    with unit_of_work(database_url) as session:
        row = session.execute(select(Handoff).where(Handoff.reference == reference).with_for_update()
                              ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        now = utcnow()
        if status is not None:
            row.status = status
            row.resolved_at = now if status in _CLOSED else None
        if assigned_agent is not None:
            row.assigned_agent = assigned_agent
        if note is not None:
            row.note = note
        if outcome is not None:
            row.outcome = outcome
        if context_update:
            row.context = {**(row.context or {}), **dict(context_update)}
        row.updated_at = now
        session.flush()
        return _dto(session, row)


def claim_handoff(reference: str, agent: str, *, database_url: Optional[str] = None) -> Optional[HandoffDTO]:
    """Assign an open handoff to ``agent``; ``None`` if it is not open any more (someone else won).

    One conditional UPDATE (status must still be ``open``): of two agents claiming at once exactly one
    changes the row, on SQLite and PostgreSQL alike.
    """
    now = utcnow()
    with unit_of_work(database_url) as session:
        result = session.execute(
            update(Handoff)
            .where(Handoff.reference == reference, Handoff.status == HandoffStatus.OPEN.value)
            .values(status=HandoffStatus.ASSIGNED.value, assigned_agent=agent, claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            if session.execute(select(Handoff.id).where(Handoff.reference == reference)).scalar() is None:
                raise NotFound(f"There is no handoff {reference!r}.")
            return None
        row = session.execute(select(Handoff).where(Handoff.reference == reference)).scalar_one()
        return _dto(session, row)


def open_handoff_for(conversation_id: str, *, database_url: Optional[str] = None) -> Optional[HandoffDTO]:
    """The conversation's handoff that an agent still has to finish (open or assigned), if any."""
    with read_scope(database_url) as session:
        row = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id,
                                  Handoff.status.in_((HandoffStatus.OPEN.value, HandoffStatus.ASSIGNED.value)))
            .order_by(Handoff.created_at.desc(), Handoff.id.desc()).limit(1)
        ).scalar_one_or_none()
        return _dto(session, row) if row else None


def count_waiting(*, database_url: Optional[str] = None) -> int:
    """How many handoffs wait for an agent (status open): the queue length customers are told about."""
    with read_scope(database_url) as session:
        return int(session.execute(select(func.count()).select_from(Handoff)
                                   .where(Handoff.status == HandoffStatus.OPEN.value)).scalar_one())
