"""The base class of every custom action: a billing database that cannot be reached gets an honest reply.

Without it, a database error inside an action makes the action server answer 500; Rasa logs it,
drops the action's events and the customer hears nothing. Here the action's half-written messages
are discarded, the customer is told the account cannot be reached right now (with the phone line,
since a handoff itself needs the database), and no slot changes — the conversation resumes where
it was once the database is back. A connection that broke while the database restarted is
detected by SQLAlchemy (``connection_invalidated``): the action runs once more on a fresh one
(money operations are idempotent by key, so a second run never moves money twice).

The billing core is synchronous (SQLAlchemy sessions, one per unit of work), so on the action
server's event loop each action holds up every other conversation's action while it waits for the
database. With ``ACTION_WORKER_THREADS`` > 0 actions run in that many worker threads instead: one
waiting for a row another transaction holds, or for a durable commit, no longer stalls the rest
(``tests/faults/test_faults.py``). The default is 0 (on the loop) because on the 2-core machine
``make bench`` runs on, with PostgreSQL on the same machine, threads cost throughput: 8 threads
100.9 / 104.1 messages/s at 10 / 50 concurrent conversations, 2 threads 102.3 / 110.7, none
112.6 / 118.0 (~0.6 ms more CPU per turn in hand-offs and GIL contention, with every core busy).
Set it (4-8) where the billing database is across a network: each round trip is then long enough
that waiting in parallel pays. An action's ``run`` must not await anything bound to the server's
loop (none does: they call the billing core and return).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Coroutine, Dict, List, Optional, Text, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT

logger = logging.getLogger(__name__)

Run = Callable[[Any, CollectingDispatcher, Tracker, Dict[Text, Any]], Awaitable[List[EventType]]]
T = TypeVar("T")

WORKER_THREADS_ENV = "ACTION_WORKER_THREADS"
DEFAULT_WORKER_THREADS = 0  # see the module docstring; the billing pools hold 5 + 15 connections

_workers: Optional[ThreadPoolExecutor] = None
_workers_lock = threading.Lock()
_thread_state = threading.local()


def worker_threads() -> int:
    raw = os.environ.get(WORKER_THREADS_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_WORKER_THREADS
    except ValueError:
        raise ValueError(f"{WORKER_THREADS_ENV} must be a whole number, not {raw!r}") from None


worker_threads()  # a bad value stops the action server as it starts, not at its first action


def _pool() -> Optional[ThreadPoolExecutor]:
    global _workers
    if _workers is None:
        with _workers_lock:
            if _workers is None and worker_threads() > 0:
                _workers = ThreadPoolExecutor(max_workers=worker_threads(), thread_name_prefix="billing-action")
    return _workers


def _run_in_this_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to the end on this worker thread's own event loop."""
    loop = getattr(_thread_state, "loop", None)
    if loop is None:
        loop = _thread_state.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine)


async def _off_the_loop(run: Run, action: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: Dict[Text, Any]) -> List[EventType]:
    """``run`` in a worker thread (on the caller's loop when there are none)."""
    pool = _pool()
    if pool is None:
        return await run(action, dispatcher, tracker, domain)
    return await asyncio.get_running_loop().run_in_executor(
        pool, _run_in_this_thread, run(action, dispatcher, tracker, domain))


def _guarded(run: Run) -> Run:
    @functools.wraps(run)
    async def wrapper(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: Dict[Text, Any]) -> List[EventType]:
        kept = len(dispatcher.messages)
        try:
            return await _off_the_loop(run, self, dispatcher, tracker, domain)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                return _apologise(self, dispatcher, tracker, kept, exc)
            logger.warning("%s: billing database connection was reset, running once more", self.name())
            del dispatcher.messages[kept:]
        except SQLAlchemyError as exc:  # pool timeouts and the like
            return _apologise(self, dispatcher, tracker, kept, exc)
        try:
            return await _off_the_loop(run, self, dispatcher, tracker, domain)
        except SQLAlchemyError as exc:
            return _apologise(self, dispatcher, tracker, kept, exc)

    return wrapper


def _apologise(action: Action, dispatcher: CollectingDispatcher, tracker: Tracker, kept: int,
               exc: Exception) -> List[EventType]:
    logger.error("%s for %s: billing database unavailable (%s: %s)", action.name(), tracker.sender_id,
                 type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
    del dispatcher.messages[kept:]
    dispatcher.utter_message(text=TROUBLE_REACHING_ACCOUNT)
    return []


class BillingAction(Action, ABC):
    """``Action`` whose ``run`` answers honestly when the billing database is unavailable."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "run" in cls.__dict__:
            cls.run = _guarded(cls.__dict__["run"])  # type: ignore[method-assign]

    @abstractmethod
    def name(self) -> Text:
        ...
