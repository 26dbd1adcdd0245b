"""Where the consumer keeps events: one table, any SQLAlchemy URL (default an SQLite file).

Each event is stored once: its key is a hash of the event's JSON, so a redelivered message (the
broker's at-least-once delivery) changes nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

DEFAULT_URL = "sqlite:///var/analytics.db"
metadata = MetaData()
events = Table(
    "analytics_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False, unique=True),
    Column("sender_id", String(128), nullable=False, index=True),
    Column("event", String(40), nullable=False),
    Column("timestamp", Float, nullable=False, index=True),
    Column("body", Text, nullable=False),
)
_engines: Dict[str, Engine] = {}


def resolve_url(url: Optional[str] = None) -> str:
    return url or os.environ.get("ANALYTICS_DATABASE_URL") or DEFAULT_URL


def engine_for(url: Optional[str] = None) -> Engine:
    url = resolve_url(url)
    if url not in _engines:
        if url.startswith("sqlite:///"):
            os.makedirs(os.path.dirname(os.path.abspath(url[len("sqlite:///"):])) or ".", exist_ok=True)
        engine = create_engine(url, future=True)
        try:
            metadata.create_all(engine)
        except OperationalError as exc:  # another process created it at the same moment
            if "already exists" not in str(exc):
                raise
        _engines[url] = engine
    return _engines[url]


def canonical_json(event: Dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, default=str)


def event_key(event: Dict[str, Any]) -> str:
    return _key(canonical_json(event))


def _key(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


# One statement per dialect, executed with all rows of a batch (executemany): a multi-row VALUES
# built per batch was compiled every time (0.13-0.24 ms of CPU per event; executemany 0.02-0.05).
_INSERTS = {name: insert(events).on_conflict_do_nothing(index_elements=["event_key"])
            for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def add_events(batch: Iterable[Dict[str, Any]], url: Optional[str] = None) -> int:
    """Store events not seen before; returns how many were new."""
    engine = engine_for(url)
    rows = []
    for e in batch:
        body = canonical_json(e)  # stored as it was hashed
        rows.append({"event_key": _key(body), "sender_id": str(e.get("sender_id") or ""),
                     "event": str(e.get("event")), "timestamp": float(e.get("timestamp") or 0.0), "body": body})
    if not rows:
        return 0
    with engine.begin() as conn:
        result = conn.execute(_INSERTS[engine.dialect.name], rows)
        return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(rows)


def load_events(url: Optional[str] = None, senders: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    """Stored events in time order (optionally only some conversations)."""
    query = select(events.c.body).order_by(events.c.timestamp, events.c.id)
    if senders:
        query = query.where(events.c.sender_id.in_(senders))
    with engine_for(url).connect() as conn:
        return [json.loads(body) for (body,) in conn.execute(query)]
