"""Rate limits per sender and per channel, shared by every server replica.

Each limit is a count of messages per key in a window that opens with the key's first message
(``RATE_LIMIT_WINDOW_SECONDS``, default 60). Counters live where all replicas see them:

- Redis (``RATE_LIMIT_REDIS_URL``, set by the production profile): ``INCR`` + ``EXPIRE`` per key;
- otherwise the channel-state SQLite file (``CHANNEL_STATE_DB``), which every server on the host
  shares (one short transaction per hit).

Settings (``.env``; 0 turns a limit off):

- ``RATE_LIMIT_PER_SENDER_PER_MINUTE`` (20): messages one customer (REST sender, phone number,
  web chat session) may send per window, on each channel;
- ``RATE_LIMIT_PER_CHANNEL_PER_MINUTE`` (600): messages per channel per window, all customers;
- ``AGENT_RATE_LIMIT_PER_MINUTE`` (300): agent API requests per signed-in agent;
- ``SIGN_IN_RATE_LIMIT_PER_MINUTE`` (10): failed console / website sign-ins per client address and
  user name (account number); further attempts get 429 until the window ends.

A counter store that cannot be reached lets the message through (logged): a Redis outage must
not silence every customer.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Dict, Optional, Protocol

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, create_engine, event, select, update, insert
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from bot.sqlite import enable_wal
from sqlalchemy.exc import IntegrityError

from bot.channels.state import ChannelStateStore, resolve_state_db

logger = logging.getLogger(__name__)

DEFAULT_WINDOW_SECONDS = 60
DEFAULTS = {
    "RATE_LIMIT_PER_SENDER_PER_MINUTE": 20,
    "RATE_LIMIT_PER_CHANNEL_PER_MINUTE": 600,
    "AGENT_RATE_LIMIT_PER_MINUTE": 300,
    "SIGN_IN_RATE_LIMIT_PER_MINUTE": 10,
}
SENDER, CHANNEL = "sender", "channel"

POLITE_TEXT = ("You're sending messages faster than I can read them — please wait a minute and try again. "
               "For anything urgent call 1-800-555-0142 (Mon–Fri, 8am–8pm).")


def setting(name: str) -> int:
    """A limit from the environment: a whole number >= 0, else the documented default."""
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number (0 = no limit)") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


def window_seconds() -> int:
    raw = (os.environ.get("RATE_LIMIT_WINDOW_SECONDS") or "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_WINDOW_SECONDS


class Counter(Protocol):
    def hit(self, key: str, window: int) -> int:
        """Counts one more event for ``key``; returns the count in the key's current window."""

    def count(self, key: str, window: int) -> int:
        """The count in the key's current window, without counting."""


_counters = MetaData()
rate_counters = Table(
    "rate_counters",
    _counters,
    Column("key", String(200), primary_key=True),
    Column("window_start", Float, nullable=False),
    Column("count", Integer, nullable=False),
)
_engines: Dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _sqlite_engine(path: str) -> Engine:
    with _engines_lock:
        engine = _engines.get(path)
        if engine is None:
            engine = create_engine(f"sqlite:///{path}", future=True, poolclass=QueuePool,
                                   connect_args={"check_same_thread": False})  # pooled, not one per use

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
                dbapi_connection.isolation_level = None  # BEGIN IMMEDIATE below, not pysqlite's deferred BEGIN
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.close()
                enable_wal(dbapi_connection)  # replicas open one file at once (bot/sqlite.py)

            @event.listens_for(engine, "begin")
            def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # read-modify-write without a race between replicas

            for attempt in range(5):
                try:
                    _counters.create_all(engine)
                    break
                except Exception as exc:  # noqa: BLE001 - two servers creating the table at once
                    if "already exists" not in str(exc) or attempt == 4:
                        raise
            _engines[path] = engine
        return engine


class SqliteCounter:
    """Counters in the channel-state SQLite file: shared by every server process on the host."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.engine = _sqlite_engine(resolve_state_db(path))

    def hit(self, key: str, window: int) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(select(rate_counters.c.window_start, rate_counters.c.count)
                               .where(rate_counters.c.key == key)).first()
            if row is None:
                try:
                    conn.execute(insert(rate_counters).values(key=key, window_start=now, count=1))
                except IntegrityError:  # pragma: no cover - BEGIN IMMEDIATE serialises writers
                    return 1
                return 1
            if now - row[0] >= window:
                conn.execute(update(rate_counters).where(rate_counters.c.key == key).values(window_start=now, count=1))
                return 1
            conn.execute(update(rate_counters).where(rate_counters.c.key == key)
                         .values(count=rate_counters.c.count + 1))
            return int(row[1]) + 1

    def count(self, key: str, window: int) -> int:
        with self.engine.begin() as conn:
            row = conn.execute(select(rate_counters.c.window_start, rate_counters.c.count)
                               .where(rate_counters.c.key == key)).first()
        return 0 if row is None or time.time() - row[0] >= window else int(row[1])


class RedisCounter:
    """Counters in Redis (production profile): a key that expires with its window, ``INCR`` per hit."""

    def __init__(self, url: str, prefix: str = "") -> None:
        import redis  # only the production profile needs it

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix or (os.environ.get("REDIS_KEY_PREFIX") or "northwind")

    def hit(self, key: str, window: int) -> int:
        name = f"{self.prefix}:ratelimit:{key}"
        pipe = self.client.pipeline()  # MULTI/EXEC: the window opens with the key's first hit
        pipe.set(name, 0, ex=window, nx=True)
        pipe.incr(name)
        _, count = pipe.execute()
        return int(count)

    def count(self, key: str, window: int) -> int:
        value = self.client.get(f"{self.prefix}:ratelimit:{key}")
        return int(value) if value is not None else 0


def default_counter(state_db: Optional[str] = None) -> Counter:
    url = (os.environ.get("RATE_LIMIT_REDIS_URL") or "").strip()
    return RedisCounter(url) if url else SqliteCounter(state_db)


@dataclass(frozen=True)
class Refusal:
    limit: str  # SENDER or CHANNEL
    first: bool  # the first refused message of this window (SMS answers only that one)


@dataclass
class RateLimiter:
    """``check(channel, sender)``: ``None`` when the message may go on, else the limit it hit."""

    counter: Counter
    per_sender: int
    per_channel: int
    window: int = DEFAULT_WINDOW_SECONDS

    @classmethod
    def from_env(cls, state_db: Optional[str] = None, counter: Optional[Counter] = None) -> "RateLimiter":
        return cls(counter or default_counter(state_db), setting("RATE_LIMIT_PER_SENDER_PER_MINUTE"),
                   setting("RATE_LIMIT_PER_CHANNEL_PER_MINUTE"), window_seconds())

    def check(self, channel: str, sender: str) -> Optional[Refusal]:
        try:
            if self.per_sender:
                count = self.counter.hit(f"{channel}:sender:{sender}", self.window)
                if count > self.per_sender:
                    return Refusal(SENDER, count == self.per_sender + 1)
            if self.per_channel:
                count = self.counter.hit(f"{channel}:all", self.window)
                if count > self.per_channel:
                    return Refusal(CHANNEL, count == self.per_channel + 1)
        except Exception:  # noqa: BLE001 - an unreachable counter store lets customers through
            logger.exception("rate limit counters unavailable: message allowed")
        return None

    def allow_key(self, key: str, limit: int) -> bool:
        """One more request for ``key`` (agent API, sign-in) within ``limit`` per window?"""
        if not limit:
            return True
        try:
            return self.counter.hit(key, self.window) <= limit
        except Exception:  # noqa: BLE001
            logger.exception("rate limit counters unavailable: request allowed")
            return True

    def failures_exceeded(self, key: str, limit: int) -> bool:
        """Have ``limit`` failures (sign-ins) been counted for ``key`` in its current window?"""
        if not limit:
            return False
        try:
            return self.counter.count(key, self.window) >= limit
        except Exception:  # noqa: BLE001
            logger.exception("rate limit counters unavailable: sign-in allowed")
            return False

    def record_failure(self, key: str) -> None:
        try:
            self.counter.hit(key, self.window)
        except Exception:  # noqa: BLE001
            logger.exception("rate limit counters unavailable: failure not counted")


__all__ = ["CHANNEL", "POLITE_TEXT", "SENDER", "RateLimiter", "Refusal", "RedisCounter", "SqliteCounter", "setting"]


class StatefulChannel:
    """The channel-state store and the rate limiter of an input channel, both on ``state_db`` and opened on
    first use (channels are built before the server forks its workers)."""

    _state_db: Optional[str] = None
    _store: Optional[ChannelStateStore] = None
    _limiter: Optional[RateLimiter] = None

    @property
    def store(self) -> ChannelStateStore:
        if self._store is None:
            self._store = ChannelStateStore(self._state_db)
        return self._store

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter.from_env(self._state_db)
        return self._limiter
