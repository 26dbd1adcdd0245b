"""A SQL tracker store whose conversation sessions stay bounded.

Rasa 3.6 pays for the length of the current session on every turn: ``SQLTrackerStore.retrieve``
loads and deserialises every event since the last ``session_started``, the policies' featurizers
replay the whole session (``Domain.states_for_tracker_history`` walks every prior tracker, whatever
``max_history`` is), and every custom action receives the whole session. Sessions already end after
``session_expiration_time`` minutes of inactivity (bot/domain/core.yml); this store also ends a
session after ``max_session_turns`` user messages, so a conversation that goes on and on costs what a
short one costs.

The new session starts the way Rasa's own ``action_session_start`` does with slots carried over:
``session_started``, one ``slot`` event per slot that holds a value, ``action_listen``. It starts only
when the conversation is at rest (no form active, the bot's last action is one of ``rest_actions``,
after which no rule looks back), or, as a hard bound, after ``2 * max_session_turns`` user messages
whenever no form is active. Nothing is deleted: every event of every session stays in the table
(``retrieve_full_tracker`` and ``GET /conversations/<id>/tracker?include_events=ALL`` return them all).

``save`` also avoids the base class's second full load per turn: ``TrackerStore.stream_events`` calls
``retrieve`` again only to find which events are new, and ``SQLTrackerStore.save`` counts the stored
ones; here the number of events loaded by ``retrieve`` tells (a ``COUNT`` only for a tracker this store
did not load), for both the insert and the event broker. A conversation that ``retrieve`` found no
rows for (under the conversation's lock) starts with none stored: its first save is one ``INSERT``,
not ``BEGIN``, ``COUNT``, ``INSERT``, ``COMMIT``. Rasa's ``get_or_create_tracker`` creates and saves
that tracker itself (through the ``FailSafeTrackerStore`` it wraps every store in), so ``retrieve``
remembers, for the task that asked, that it found no row, and that task's next save of the
conversation inserts at once; a save from any other task counts first.

``retrieve`` does not rebuild a tracker it has seen: after each ``save`` the store keeps a copy of
the session as stored (at most ``cache_trackers`` conversations, least recently used dropped), and
the next ``retrieve`` asks the table only for the events after the last one it knows (``id >``, one
index range that is empty unless another server wrote). It skips the rows this store wrote itself,
applies the others (another replica's turns, under the same conversation lock), and hands out a copy.
A new session (``session_started`` from elsewhere, or in the tracker being saved) or fewer rows than
expected means a full load, as does a tracker this store did not load. A turn that fails before
``save`` leaves the cached copy as it was: the stored state.

Both run SQLAlchemy Core statements built once (``_SessionStatements``), on a connection, not through
an ORM ``Session`` and a ``Query`` rebuilt every turn: the same SQL as ``SQLTrackerStore`` (events of
the latest session, ordered by id), compiled once and cached by SQLAlchemy; on PostgreSQL as driver
SQL compiled once at start (``_DriverStatements``), with each event's JSON the one already made for
the action server's requests (bot/runtime/action_payload.py). In ``make bench`` the
ORM path cost ~19 % of the Rasa server's CPU (retrieve 10.7 %, save 8.7 %).

On PostgreSQL both run on a second pool of the same database in autocommit mode: a turn's read is one
``SELECT`` and its write one multi-row ``INSERT`` (atomic on its own), so the ``BEGIN``, the
``COMMIT`` or ``ROLLBACK``, and the ``SET LOCAL synchronous_commit`` of each transaction were three
extra round trips a call; ``synchronous_commit`` is set once per connection instead. A save of more
rows than fit one ``INSERT`` (``MAX_AUTOCOMMIT_ROWS``), or one that must count the stored rows first,
still runs in a transaction. ``make bench``: ~0.3 ms of SQLAlchemy and psycopg2 per transaction,
and three statements less for PostgreSQL to run, per call.

The round trips stay on the event loop: running them in a pool of threads (tried in ``make bench``
at 10 and 50 concurrent conversations) cost CPU in thread hand-offs and gained no throughput,
because on this machine every core is busy anyway.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import OrderedDict
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.runtime.action_payload import event_dict, event_json
from bot.runtime.applied_events import carry_over
from bot.runtime.states_cache import CACHE_ATTRIBUTE as STATES_ATTRIBUTE

logger = logging.getLogger(__name__)

DEFAULT_MAX_SESSION_TURNS = 25
DEFAULT_REST_ACTIONS = ("utter_greet", "utter_welcome", "utter_what_else", "utter_goodbye")
ROLLOVER_REASON = "max_session_turns"
STORED_ATTRIBUTE = "_stored_event_count"  # events of the current session already in the table
# (id of the newest row this store has read for the conversation, rows it has written since then,
#  session_started events in the tracker as loaded)
POSITION_ATTRIBUTE = "_northwind_store_position"
DEFAULT_CACHE_TRACKERS = 256
# psycopg2's execute_values sends up to 1000 rows as one INSERT (SQLAlchemy's default page size)
MAX_AUTOCOMMIT_ROWS = 1000


def session_user_turns(tracker: DialogueStateTracker) -> int:
    """User messages since the latest ``session_started`` (or since the start)."""
    turns = 0
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            break
        if isinstance(event, UserUttered):
            turns += 1
    return turns


def last_bot_action(tracker: DialogueStateTracker) -> Optional[Text]:
    """The latest action other than ``action_listen`` in the current session."""
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted):
            return None
        if isinstance(event, ActionExecuted) and event.action_name and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name
    return None


def rollover_events(tracker: DialogueStateTracker) -> List[Event]:
    """A new session with the conversation's slots carried over (like ``action_session_start``)."""
    started = SessionStarted(metadata={"reason": ROLLOVER_REASON})  # first: the store finds a session by time
    carried = [
        SlotSet(name, slot.value, timestamp=started.timestamp)
        for name, slot in tracker.slots.items()
        if slot.value != slot.initial_value
    ]
    return [started, *carried, ActionExecuted(ACTION_LISTEN_NAME, timestamp=started.timestamp)]


class _SessionStatements:
    """``SQLTrackerStore._event_query`` for the latest session, as Core statements built once."""

    def __init__(self, events: sa.Table) -> None:
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        latest_session = sa.and_(
            events.c.sender_id == sender,
            sa.or_(events.c.timestamp >= session_start, session_start.is_(None)),
        )
        self.rows = sa.select(events.c.id, events.c.data).where(latest_session).order_by(events.c.id)
        self.rows_after = (
            sa.select(events.c.id, events.c.type_name, events.c.data)
            .where(events.c.sender_id == sender, events.c.id > sa.bindparam("after"))
            .order_by(events.c.id)
        )
        self.count = sa.select(sa.func.count()).select_from(events).where(latest_session)
        self.insert = events.insert()
        self.columns = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class _DriverStatements:
    """The same statements as driver SQL (PostgreSQL's autocommit pool): compiled once, run with
    ``exec_driver_sql``, which skips SQLAlchemy's per-call compile-cache lookup and parameter
    processing; the insert is one ``VALUES`` list rendered by psycopg2 in one call instead of
    ``execute_values``'s per-row loop."""

    def __init__(self, statements: _SessionStatements, table: sa.Table, dialect: sa.engine.Dialect) -> None:
        self.rows = self._compiled(statements.rows, dialect)
        self.rows_after = self._compiled(statements.rows_after, dialect)
        preparer = dialect.identifier_preparer
        names = ", ".join(preparer.quote(name) for name in statements.columns)
        self.insert_prefix = f"INSERT INTO {preparer.format_table(table)} ({names}) VALUES "
        self.row = "(" + ", ".join(["%s"] * len(statements.columns)) + ")"

    @staticmethod
    def _compiled(statement: sa.sql.Select, dialect: sa.engine.Dialect) -> Tuple[str, Dict[str, Any]]:
        """The SQL, and the values of its constant parameters (``type_name = 'session_started'``)."""
        compiled = statement.compile(dialect=dialect)
        return str(compiled), {name: value for name, value in compiled.params.items() if value is not None}

    def insert(self, rows: int) -> str:
        return self.insert_prefix + ", ".join([self.row] * rows)


class _Snapshot:
    """A conversation's current session as stored, and where the store's reading of the table ends."""

    __slots__ = ("tracker", "after", "unseen", "sessions")

    def __init__(self, tracker: DialogueStateTracker, after: int, unseen: int, sessions: int) -> None:
        self.tracker, self.after, self.unseen, self.sessions = tracker, after, unseen, sessions


def _sessions(tracker: DialogueStateTracker) -> int:
    """``session_started`` events in the tracker: one more than when loaded means a full load would
    now start later (at the new one)."""
    return sum(1 for event in tracker.events if isinstance(event, SessionStarted))


def _copy_with_states(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A copy that also takes over the dialogue states computed so far (bot/runtime/states_cache.py):
    the next turn's first prediction replays only the new events, not the whole session. Each
    cached replay is checked against the events it is asked about (by identity), so a copy whose
    events went another way (a failed turn) replays from the start."""
    clone = tracker.copy()
    states = tracker.__dict__.get(STATES_ATTRIBUTE)
    if states:
        clone.__dict__[STATES_ATTRIBUTE] = dict(states)
    carry_over(tracker, clone)  # and the applied events so far (bot/runtime/applied_events.py)
    return clone


class BoundedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that starts a new session after ``max_session_turns`` user messages."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        max_session_turns: int = DEFAULT_MAX_SESSION_TURNS,
        rest_actions: Optional[Iterable[Text]] = None,
        event_broker: Optional[EventBroker] = None,
        synchronous_commit: Any = True,
        cache_trackers: int = DEFAULT_CACHE_TRACKERS,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain=domain, event_broker=event_broker, **kwargs)
        # ``synchronous_commit: off`` (PostgreSQL): a turn's events commit without waiting for the WAL
        # flush (~1.5 ms per turn here); a crash of the database server can lose the last ~0.6 s of
        # events, never corrupt them. Rasa's default (on) unless endpoints.yml says otherwise.
        self.synchronous_commit = str(synchronous_commit).strip().lower() not in ("false", "off", "0", "no")
        self.max_session_turns = int(max_session_turns)
        if self.max_session_turns < 1:
            raise ValueError("max_session_turns must be at least 1")
        self.rest_actions = frozenset(rest_actions if rest_actions is not None else DEFAULT_REST_ACTIONS)
        self._statements = _SessionStatements(self.SQLEvent.__table__)
        self.cache_trackers = int(cache_trackers)
        self._snapshots: "OrderedDict[Text, _Snapshot]" = OrderedDict()
        self._autocommit = self._autocommit_engine() if self.engine.dialect.name == "postgresql" else None
        self._driver = (_DriverStatements(self._statements, self.SQLEvent.__table__, self._autocommit.dialect)
                        if self._autocommit is not None else None)
        # conversations whose ``retrieve`` found no row, by the task that asked (module docstring)
        self._found_empty: Dict[Text, "asyncio.Task[Any]"] = {}

    def _autocommit_engine(self) -> sa.engine.Engine:
        """A pool of autocommit connections to the same database (see the module docstring)."""
        from rasa.core.tracker_store import create_engine_kwargs

        engine = sa.create_engine(self.engine.url, isolation_level="AUTOCOMMIT", future=True,
                                  **create_engine_kwargs(self.engine.url))
        if not self.synchronous_commit:
            @sa.event.listens_for(engine, "connect")
            def _asynchronous_commit(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO OFF")
        return engine

    def _reader(self) -> sa.engine.Engine:
        return self._autocommit or self.engine

    def needs_rollover(self, tracker: DialogueStateTracker) -> bool:
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.active_loop_name:
            return False
        turns = session_user_turns(tracker)
        if turns >= 2 * self.max_session_turns:
            return True
        return turns >= self.max_session_turns and last_bot_action(tracker) in self.rest_actions

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The current session; a new one (not yet stored) if the current one is long enough."""
        with self._reader().connect() as connection:
            tracker = self._from_snapshot(connection, sender_id)
            if tracker is None:
                tracker = self._load(connection, sender_id)
        if tracker is None:
            self._remember_empty(sender_id)
        elif self.needs_rollover(tracker):
            logger.debug(f"Conversation '{sender_id}': session ended after {self.max_session_turns}+ turns.")
            for event in rollover_events(tracker):
                tracker.update(event)
        return tracker

    def _remember_empty(self, sender_id: Text) -> None:
        """Note that this task found no row of ``sender_id`` (under the conversation's lock)."""
        task = asyncio.current_task()  # retrieve is a coroutine: there is always a running loop
        if task is not None:
            self._found_empty[sender_id] = task
            task.add_done_callback(lambda done, key=sender_id: self._forget_empty(key, done))

    def _forget_empty(self, sender_id: Text, task: "asyncio.Task[Any]") -> None:
        if self._found_empty.get(sender_id) is task:
            del self._found_empty[sender_id]

    def _stored_count(self, tracker: DialogueStateTracker) -> Optional[int]:
        """Events of ``tracker`` known to be in the table: set by ``retrieve``, or 0 for the new
        conversation that this task's ``retrieve`` found no row of (Rasa's ``create_tracker``)."""
        stored = getattr(tracker, STORED_ATTRIBUTE, None)
        if stored is not None:
            return stored
        task = self._found_empty.get(tracker.sender_id)
        if task is not None and task is asyncio.current_task():
            del self._found_empty[tracker.sender_id]
            return 0
        return None

    def _select(self, connection: sa.engine.Connection, name: str, params: Dict[Text, Any]) -> List[Any]:
        """``rows`` or ``rows_after``: as driver SQL on the autocommit pool, else the Core statement."""
        if self._driver is not None:
            sql, constants = getattr(self._driver, name)
            return connection.exec_driver_sql(sql, {**constants, **params}).all()
        return connection.execute(getattr(self._statements, name), params).all()

    def _load(self, connection: sa.engine.Connection, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session from the table, as ``SQLTrackerStore.retrieve`` builds it."""
        rows = self._select(connection, "rows", {"sender_id": sender_id})
        if self.domain is None or not rows:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        setattr(tracker, STORED_ATTRIBUTE, len(tracker.events))  # saves a COUNT in save()
        setattr(tracker, POSITION_ATTRIBUTE, (rows[-1].id, 0, _sessions(tracker)))
        return tracker

    def _from_snapshot(self, connection: sa.engine.Connection, sender_id: Text) -> Optional[DialogueStateTracker]:
        """A copy of the kept session brought up to date with the rows stored since; ``None`` to load."""
        snapshot = self._snapshots.get(sender_id)
        if snapshot is None:
            return None
        rows = self._select(connection, "rows_after", {"sender_id": sender_id, "after": snapshot.after})
        others = rows[snapshot.unseen:]
        if len(rows) < snapshot.unseen or any(row.type_name == SessionStarted.type_name for row in others):
            del self._snapshots[sender_id]  # rows gone, or a new session: load it from the table
            return None
        # written by another server since this one saved, deserialised as ``from_dict`` does
        for event in deserialise_events([json.loads(row.data) for row in others]):
            snapshot.tracker.update(event)
        if rows:
            snapshot.after, snapshot.unseen = rows[-1].id, 0
        self._snapshots.move_to_end(sender_id)
        tracker = _copy_with_states(snapshot.tracker)
        setattr(tracker, STORED_ATTRIBUTE, len(tracker.events))
        setattr(tracker, POSITION_ATTRIBUTE, (snapshot.after, 0, snapshot.sessions))
        return tracker

    def _keep(self, tracker: DialogueStateTracker, written: int) -> None:
        """After a save: keep a copy of the session as stored, or forget it if a load must rebuild it."""
        sender_id = tracker.sender_id
        position = getattr(tracker, POSITION_ATTRIBUTE, None)
        if self.cache_trackers <= 0 or position is None or _sessions(tracker) != position[2]:
            self._snapshots.pop(sender_id, None)
            return
        after, unseen, sessions = position[0], position[1] + written, position[2]
        setattr(tracker, POSITION_ATTRIBUTE, (after, unseen, sessions))
        self._snapshots[sender_id] = _Snapshot(_copy_with_states(tracker), after, unseen, sessions)
        self._snapshots.move_to_end(sender_id)
        while len(self._snapshots) > self.cache_trackers:
            self._snapshots.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not stored yet, then publish the same events.

        How many are stored is known when this store loaded the tracker (the conversation lock keeps
        other servers out meanwhile); otherwise one ``COUNT`` finds out.
        """
        stored = self._stored_count(tracker)
        if (stored is not None and self._autocommit is not None
                and len(tracker.events) - stored <= MAX_AUTOCOMMIT_ROWS):
            new_events, rows = self._unstored(tracker, stored)
            if rows:  # one INSERT, its own transaction
                columns = self._statements.columns
                with self._autocommit.connect() as connection:
                    connection.exec_driver_sql(self._driver.insert(len(rows)),
                                               tuple([row[name] for row in rows for name in columns]))
        else:
            with self.engine.begin() as connection:
                if not self.synchronous_commit and self.engine.dialect.name == "postgresql":
                    connection.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                if stored is None:
                    stored = connection.execute(self._statements.count, {"sender_id": tracker.sender_id}).scalar_one()
                    setattr(tracker, POSITION_ATTRIBUTE, None)  # not loaded here: nothing to keep
                new_events, rows = self._unstored(tracker, stored)
                if rows:  # one executemany, not the ORM's unit of work
                    connection.execute(self._statements.insert, rows)
        setattr(tracker, STORED_ATTRIBUTE, len(tracker.events))
        self._keep(tracker, len(rows))
        if self.event_broker is not None and new_events:
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)

    def _unstored(self, tracker: DialogueStateTracker, stored: int) -> "Tuple[List[Event], List[Dict[Text, Any]]]":
        """The events after the first ``stored`` ones, and their rows."""
        events = list(itertools.islice(tracker.events, stored, None))
        return events, [self._row(tracker.sender_id, event) for event in events]

    @staticmethod
    def _row(sender_id: Text, event: Event) -> Dict[Text, Any]:
        """The columns Rasa's ``SQLTrackerStore.save`` writes for an event. The event's dict and JSON
        text are the ones kept for the action server's requests (bot/runtime/action_payload.py):
        made once per event, whichever needs them first (the same JSON as ``json.dumps`` gives,
        without the spaces after separators)."""
        data = event_dict(event)
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": event_json(event),
        }
