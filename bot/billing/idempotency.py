"""Run an operation exactly once per idempotency key.

The key is the primary key of ``idempotency_keys``; it is inserted in the same transaction as the
operation's rows. A second request with the same key - sequential or concurrent, in another
thread or process - finds the stored row and returns the stored result (``replayed=True``):

* SQLite: units of work start with ``BEGIN IMMEDIATE``, so they run one after another and the
  second sees the first's committed key.
* PostgreSQL: the second ``INSERT`` of the same key waits for the first transaction and then fails
  with a unique violation (``IntegrityError``); we roll back and read the committed result.

A key reused for a *different* request (other operation or parameters) raises
:class:`~bot.billing.errors.IdempotencyConflict`.

Inside :func:`bot.billing.db.one_transaction` the unit of work is a savepoint of the shared
transaction: a unique violation undoes only this operation's savepoint before the next attempt, and
the key is visible to others (a concurrent request waits on it) once the whole block commits.
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Callable, Mapping, Optional, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.billing.dates import utcnow
from bot.billing import faults
from bot.billing.db import after_commit, unit_of_work
from bot.billing.dto import OperationResult
from bot.billing.errors import IdempotencyConflict, InvalidRequest
from bot.billing.models import IdempotencyKey
from bot.billing.refs import new_reference

T = TypeVar("T")
logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 4


def fingerprint(operation: str, params: Mapping[str, Any]) -> str:
    """A stable hash of the money-relevant request parameters."""
    payload = json.dumps({"operation": operation, **params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def run_idempotent(
    *,
    database_url: Optional[str],
    key: str,
    operation: str,
    params: Mapping[str, Any],
    perform: Callable[[Session, str], Optional[str]],
    load: Callable[[Session, str], T],
) -> OperationResult[T]:
    """Run ``perform(session, new_reference)`` once for ``key`` and return ``load(session, reference)``.

    ``perform`` may return a different reference (an existing object's) to store for the key.
    Exceptions from ``perform`` roll everything back, so the same key can be retried.
    """
    if not key or not key.strip() or len(key) > 200:
        raise InvalidRequest("An idempotency key of 1-200 characters is required.")
    digest = fingerprint(operation, params)
    for attempt in range(MAX_ATTEMPTS):
        try:
            with unit_of_work(database_url) as session:
                existing = session.get(IdempotencyKey, key)
                if existing is not None:
                    if existing.operation != operation or existing.fingerprint != digest:
                        raise IdempotencyConflict(
                            f"idempotency key {key!r} was already used for a different {existing.operation} request")
                    return OperationResult(existing.reference, operation, True, load(session, existing.reference))
                row = IdempotencyKey(key=key, operation=operation, fingerprint=digest,
                                     reference=new_reference(), created_at=utcnow())
                session.add(row)
                session.flush()  # PostgreSQL: waits here for a concurrent holder of the same key
                row.reference = perform(session, row.reference) or row.reference
                session.flush()
                result = load(session, row.reference)
            reference = row.reference  # test-only crash point once committed (bot/billing/faults.py)
            after_commit(lambda: faults.after_commit(operation, reference))
            return OperationResult(row.reference, operation, False, result)
        except IntegrityError as exc:
            logger.info("idempotent %s %r: integrity error on attempt %d (%s)", operation, key, attempt + 1,
                        type(exc.orig).__name__)
            if attempt == MAX_ATTEMPTS - 1:
                raise
            # Either a concurrent request committed this key first (the next attempt replays
            # it), or the random reference collided (the next attempt draws another).
    raise AssertionError("unreachable")
