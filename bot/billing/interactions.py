"""The interaction log: every customer, bot and agent message of record.

Messages are logged as they happen with ``conversation_id``/``sender_id``; once the customer is
verified, :func:`link_conversation` ties the conversation's earlier rows to the customer, and
later rows pass ``account_number`` directly.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, List, Mapping, Optional

from sqlalchemy import bindparam, select, update

from bot.billing.dates import utcnow
from bot.billing.db import append_scope, dialect_name, read_scope, unit_of_work
from bot.billing.dto import InteractionDTO
from bot.billing.errors import InvalidRequest, NotFound
from bot.billing.identifiers import normalise_account_number
from bot.billing.kinds import ActorKind
from bot.billing.models import Customer, Interaction


def _customer_id(session: Any, account_number: Optional[str]) -> Optional[int]:
    if not account_number:
        return None
    account = normalise_account_number(account_number)
    customer_id = session.execute(select(Customer.id).where(Customer.account_number == account)).scalar() \
        if account else None
    if customer_id is None:
        raise NotFound(f"There is no account {account_number!r}.")
    return customer_id


_COLUMNS = ("conversation_id", "sender_id", "channel", "actor", "actor_id", "text", "details", "created_at")


def _by_account_insert() -> Any:
    table = Interaction.__table__
    return table.insert().from_select(
        [*_COLUMNS, "customer_id"],
        select(*(bindparam(name, type_=table.c[name].type) for name in _COLUMNS), Customer.id)
        .where(Customer.account_number == bindparam("account")),
    )


class _Insert:
    """The log's inserts, built once (the ORM's add + flush + a customer lookup cost ~1 ms of CPU per
    message, and a turn logs one or two): without a customer, or with the customer's id taken from
    ``customers`` in the same statement (``INSERT ... SELECT``: no row inserted = no such account)."""

    plain = Interaction.__table__.insert()
    by_account = {"postgresql": _by_account_insert().returning(Interaction.__table__.c.id),
                  "sqlite": _by_account_insert()}


def log_interaction(
    *,
    conversation_id: str,
    actor: str,
    text: str,
    sender_id: Optional[str] = None,
    channel: str = "rest",
    actor_id: Optional[str] = None,
    account_number: Optional[str] = None,
    details: Optional[Mapping[str, Any]] = None,
    created_at: Optional[datetime] = None,
    database_url: Optional[str] = None,
) -> int:
    """Append one message to the log and return its id.

    ``actor`` is ``customer``, ``bot`` or ``agent``; ``sender_id`` defaults to the conversation id;
    ``account_number`` ties the row to the customer when known.
    """
    if actor not in {a.value for a in ActorKind}:
        raise InvalidRequest(f"Unknown actor {actor!r}: use customer, bot or agent.")
    if not conversation_id:
        raise InvalidRequest("A conversation id is required.")
    account = normalise_account_number(account_number) if account_number else None
    if account_number and not account:
        raise NotFound(f"There is no account {account_number!r}.")
    values = {"conversation_id": conversation_id, "sender_id": sender_id or conversation_id, "channel": channel,
              "actor": actor, "actor_id": actor_id, "text": text, "details": dict(details) if details else None,
              "created_at": created_at or utcnow()}
    with append_scope(database_url) as session:  # one statement; the tracker store keeps the conversation too
        if account is None:
            return session.execute(_Insert.plain, {**values, "customer_id": None}).inserted_primary_key[0]
        dialect = dialect_name(session)
        result = session.execute(_Insert.by_account[dialect], {**values, "account": account})
        row_id = result.scalar() if dialect == "postgresql" else (result.lastrowid if result.rowcount else None)
        if row_id is None:
            raise NotFound(f"There is no account {account_number!r}.")
        return row_id


def link_conversation(conversation_id: str, account_number: str, *, database_url: Optional[str] = None) -> int:
    """Tie the conversation's rows that have no customer yet to ``account_number``; return how many."""
    with unit_of_work(database_url) as session:
        customer_id = _customer_id(session, account_number)
        result = session.execute(update(Interaction).where(
            Interaction.conversation_id == conversation_id, Interaction.customer_id.is_(None)
        ).values(customer_id=customer_id).execution_options(synchronize_session=False))
        return result.rowcount


def _dtos(session: Any, rows: List[Interaction]) -> List[InteractionDTO]:
    ids = {r.customer_id for r in rows if r.customer_id}
    accounts = dict(session.execute(select(Customer.id, Customer.account_number).where(Customer.id.in_(ids))).all()) \
        if ids else {}
    return [InteractionDTO(r.id, r.conversation_id, r.sender_id, r.channel, r.actor, r.actor_id, r.text,
                           accounts.get(r.customer_id), r.created_at) for r in rows]


def conversation_log(conversation_id: str, *, database_url: Optional[str] = None) -> List[InteractionDTO]:
    """The conversation's messages in order."""
    with read_scope(database_url) as session:
        rows = session.execute(select(Interaction).where(Interaction.conversation_id == conversation_id)
                               .order_by(Interaction.created_at, Interaction.id)).scalars().all()
        return _dtos(session, rows)


def customer_interactions(account_number: str, *, limit: int = 200,
                          database_url: Optional[str] = None) -> List[InteractionDTO]:
    """The customer's logged messages across conversations, newest first."""
    with read_scope(database_url) as session:
        customer_id = _customer_id(session, account_number)
        rows = session.execute(select(Interaction).where(Interaction.customer_id == customer_id)
                               .order_by(Interaction.created_at.desc(), Interaction.id.desc()).limit(limit)
                               ).scalars().all()
        return _dtos(session, rows)


VERIFICATION_FAILED = "Verification failed: the details did not match."


def record_verification_failure(sender_id: str, conversation_id: str, channel: str, *,
                                database_url: Optional[str] = None) -> int:
    """Log a failed verification attempt (the lockout counts these per sender)."""
    return log_interaction(conversation_id=conversation_id, sender_id=sender_id, channel=channel, actor="bot",
                           text=VERIFICATION_FAILED, details={"kind": "verification_failed"},
                           database_url=database_url)


def verification_failures(sender_id: str, since: datetime, *, database_url: Optional[str] = None) -> List[datetime]:
    """When this sender's verification attempts failed, oldest first, from ``since`` on (any conversation)."""
    with read_scope(database_url) as session:
        return list(session.execute(
            select(Interaction.created_at).where(Interaction.sender_id == sender_id,
                                                 Interaction.text == VERIFICATION_FAILED,
                                                 Interaction.created_at >= since)
            .order_by(Interaction.created_at)).scalars().all())
