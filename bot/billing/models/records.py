"""Records kept next to the ledger: interaction log, handoffs, audit log, idempotency keys,
seed ground truth and seed metadata."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text

from bot.billing.dates import utcnow
from bot.billing.models.base import Base
from bot.billing.money import Money


class Interaction(Base):
    """Every customer, bot and agent message of record; ``customer_id`` is filled once known."""

    __tablename__ = "interaction_log"
    # one sender's recent verification failures (the lockout check, every verification turn)
    __table_args__ = (Index("ix_interaction_log_sender_id_created_at", "sender_id", "created_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(100), nullable=False, index=True)
    sender_id = Column(String(100), nullable=False)
    channel = Column(String(30), nullable=False)
    actor = Column(String(10), nullable=False)  # customer | bot | agent
    actor_id = Column(String(100), nullable=True)  # agent id, bot name
    text = Column(Text, nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=True, index=True)
    details = Column(JSON, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class Handoff(Base):
    """A conversation handed to a human agent, with the reason and the context they need."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)
    conversation_id = Column(String(100), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=True, index=True)
    reason_code = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False, index=True)
    summary = Column(Text, nullable=True)
    context = Column(JSON, nullable=False)
    assigned_agent = Column(String(100), nullable=True)
    note = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)
    resolved_at = Column(DateTime, nullable=True)
    claimed_at = Column(DateTime, nullable=True)
    outcome = Column(String(40), nullable=True)  # set when resolved or handed back


class AuditEntry(Base):
    """Who changed money (bot or agent + id), what, why, with which key, amounts and reference."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    actor_kind = Column(String(10), nullable=False)
    actor_id = Column(String(100), nullable=False)
    action = Column(String(40), nullable=False)
    reason = Column(Text, nullable=False)
    idempotency_key = Column(String(200), nullable=True, index=True)
    reference = Column(String(20), nullable=False, index=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=True, index=True)
    amount = Column(Money, nullable=False)
    currency = Column(String(3), nullable=False, default="USD")
    balance_before = Column(Money, nullable=True)
    balance_after = Column(Money, nullable=True)
    details = Column(JSON, nullable=True)


class IdempotencyKey(Base):
    """One row per idempotent request: the key is unique, the result is found by ``reference``."""

    __tablename__ = "idempotency_keys"

    key = Column(String(200), primary_key=True)
    operation = Column(String(40), nullable=False)
    fingerprint = Column(String(64), nullable=False)
    reference = Column(String(20), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class SeededError(Base):
    """Ground truth: an error the seed injected on purpose (demo or generated)."""

    __tablename__ = "seeded_errors"

    id = Column(Integer, primary_key=True)
    invoice_id = Column(Integer, ForeignKey("invoices.id"), nullable=False, index=True)
    kind = Column(String(40), nullable=False)
    amount = Column(Money, nullable=False)
    source = Column(String(10), nullable=False)  # demo | generated


class BillingMeta(Base):
    """Key/value facts about the database (``seeded_on``, ``seed_customers``...)."""

    __tablename__ = "billing_meta"

    key = Column(String(50), primary_key=True)
    value = Column(String(200), nullable=False)


class AgentAccount(Base):
    """A human billing agent who works handoffs (password stored as an Argon2 hash only)."""

    __tablename__ = "agents"

    id = Column(Integer, primary_key=True)
    username = Column(String(60), nullable=False, unique=True)
    display_name = Column(String(100), nullable=False)
    password_hash = Column(String(200), nullable=False)
    online = Column(Boolean, nullable=False, default=False)
    last_seen_at = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
