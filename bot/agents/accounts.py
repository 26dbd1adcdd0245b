"""Agent accounts: create, authenticate (Argon2 via argon2-cffi), presence.

Passwords are only ever stored as Argon2id hashes. Presence feeds the escalation promise: an agent
counts as online while signed in and seen within ``STALE_AFTER``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from bot.billing.dates import utcnow
from bot.billing.db import read_scope, unit_of_work
from bot.billing.errors import InvalidRequest
from bot.billing.models import AgentAccount

STALE_AFTER = timedelta(minutes=5)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,59}$")
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost one Argon2 verification.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    online: bool
    last_seen_at: Optional[datetime]


def _agent(row: AgentAccount) -> Agent:
    return Agent(row.username, row.display_name, bool(row.online), row.last_seen_at)


def create_agent(username: str, display_name: str, password: str, *, database_url: Optional[str] = None) -> Agent:
    """Add an agent; the username must be new and the password at least 10 characters."""
    username = (username or "").strip().lower()
    if not _USERNAME.match(username):
        raise InvalidRequest("A username is 2-60 characters: lower-case letters, digits, '.', '_' or '-'.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    try:
        with unit_of_work(database_url) as session:
            row = AgentAccount(username=username, display_name=(display_name or username).strip()[:100],
                               password_hash=_hasher.hash(password), online=False, created_at=utcnow())
            session.add(row)
            session.flush()
            return _agent(row)
    except IntegrityError:
        raise InvalidRequest(f"There is already an agent {username!r}.") from None


def set_password(username: str, password: str, *, database_url: Optional[str] = None) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    with unit_of_work(database_url) as session:
        session.execute(update(AgentAccount).where(AgentAccount.username == username)
                        .values(password_hash=_hasher.hash(password)))


def authenticate(username: str, password: str, *, database_url: Optional[str] = None) -> Optional[Agent]:
    """The agent if the password matches, else ``None`` (same cost for unknown usernames)."""
    username = (username or "").strip().lower()
    with read_scope(database_url) as session:
        row = session.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one_or_none()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        agent = _agent(row) if row is not None else None
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if agent is not None and _hasher.check_needs_rehash(stored):
        set_password(username, password, database_url=database_url)
    return agent


def get_agent(username: str, *, database_url: Optional[str] = None) -> Optional[Agent]:
    with read_scope(database_url) as session:
        row = session.execute(select(AgentAccount).where(AgentAccount.username == username)).scalar_one_or_none()
        return _agent(row) if row is not None else None


def set_presence(username: str, online: bool, *, database_url: Optional[str] = None) -> None:
    with unit_of_work(database_url) as session:
        session.execute(update(AgentAccount).where(AgentAccount.username == username)
                        .values(online=online, last_seen_at=utcnow()))


def touch(username: str, *, database_url: Optional[str] = None) -> None:
    """Record activity (every authenticated request): keeps an online agent counted as available."""
    with unit_of_work(database_url) as session:
        session.execute(update(AgentAccount).where(AgentAccount.username == username)
                        .values(last_seen_at=utcnow()))


def agents_online(*, now: Optional[datetime] = None, database_url: Optional[str] = None) -> int:
    """Agents marked online and seen within ``STALE_AFTER``."""
    cutoff = (now or utcnow()) - STALE_AFTER
    with read_scope(database_url) as session:
        return int(session.execute(
            select(func.count()).select_from(AgentAccount)
            .where(AgentAccount.online.is_(True), AgentAccount.last_seen_at >= cutoff)
        ).scalar_one())


def list_agents(*, database_url: Optional[str] = None) -> List[Agent]:
    with read_scope(database_url) as session:
        rows = session.execute(select(AgentAccount).order_by(AgentAccount.username)).scalars().all()
        return [_agent(r) for r in rows]
