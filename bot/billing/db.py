"""Engines (cached per process and URL) and one ``Session`` per unit of work.

There is no module-level session. Callers write::

    with read_scope() as session:           # lookups: read-only, cheapest
        ...
    with unit_of_work() as session:         # writes: one transaction, serialised on SQLite
        ...
    with one_transaction():                 # several operations, one commit (each a savepoint)
        ...
    with session_scope() as session:        # general purpose: one transaction (commit/rollback)
        ...

SQLite connections get ``journal_mode=WAL``, ``foreign_keys=ON``, ``busy_timeout``,
``synchronous=NORMAL``, a larger page cache and memory-mapped reads. The pysqlite driver's own
transaction handling is switched off and SQLAlchemy emits the ``BEGIN``: plain ``BEGIN`` for
reads, ``BEGIN IMMEDIATE`` for units of work, so two writers queue on the write lock
(busy_timeout) instead of failing with "database is locked" when a read transaction tries to
upgrade. ``read_scope`` adds ``PRAGMA query_only``.

PostgreSQL uses READ COMMITTED plus row locks (``SELECT ... FOR UPDATE``) taken by the operations.
``read_scope`` uses a separate read-only pool in autocommit mode: under READ COMMITTED each
statement sees its own snapshot anyway, so skipping BEGIN/COMMIT loses nothing and saves two round
trips per lookup; writes through it fail ("read-only transaction"). ``append_scope`` is for one
statement that appends a record kept elsewhere too (the interaction log): an autocommit pool whose
commits do not wait for the disk, so the statement is the whole transaction - one round trip
instead of five (pre-ping, BEGIN, SET LOCAL, the statement, COMMIT).

A pooled PostgreSQL connection is pinged (``SELECT 1``) before use only when it has been idle for
``PING_IDLE_S``: a connection used a moment ago is alive, and one broken since (the server restarted
within those seconds) fails its statement with ``connection_invalidated``, which the actions' guard
runs once more on a fresh connection. SQLAlchemy's ``pool_pre_ping`` pinged on every checkout, a
round trip per unit of work.
"""
from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from bot.billing.config import resolve_database_url
from bot.sqlite import enable_wal

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_RECYCLE_S = 300
PING_IDLE_S = 5.0
SQLITE_CACHE_KIB = 16_384
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
_BEGIN_OPTION = "billing_sqlite_begin"

_engines: Dict[Tuple[int, str], Tuple[Engine, Engine, Engine, Engine]] = {}  # default, write, read, append
_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        enable_wal(dbapi_connection)  # several servers open one file at once (bot/sqlite.py)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # page cache per connection
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")  # read through the OS page cache
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        if mode == "READ":
            connection.exec_driver_sql("PRAGMA query_only=1")
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("PRAGMA query_only=0")
            connection.exec_driver_sql(f"BEGIN {mode}")


_PYFORMAT = re.compile(r"%\((\w+)\)s")
# what PREPARE takes (not SAVEPOINT, SET, DDL): a unit of work's statements are prepared too
_PREPARABLE = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.IGNORECASE)
MAX_PREPARED = 200  # per connection; IN lists of new lengths beyond this run unprepared


def _use_prepared_statements(engine: Engine) -> None:
    """Statements run as server-side prepared statements (PREPARE once per connection, then EXECUTE).

    psycopg2 sends every statement as text, and PostgreSQL plans it again each time: for the short
    lookups here planning costs as much as running them. The first use of a statement on a connection
    prepares it; later uses send only ``EXECUTE name(params)``. On every PostgreSQL engine: lookups,
    units of work (a confirmed refund's ~60 statements: 9.5-11 -> 4.5-8.5 ms of PostgreSQL CPU per
    refund on ``make bench``'s billing database) and the interaction log. ``SAVEPOINT``, ``SET`` and
    DDL, which PREPARE does not take, run as they are. A prepared statement outlives a rollback.
    """

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _prepare(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool):
        if executemany or not isinstance(parameters, dict) or not _PREPARABLE.match(statement):
            return statement, parameters
        cache: Dict[str, Tuple[str, list]] = conn.connection.info.setdefault("nw_prepared", {})
        entry = cache.get(statement)
        if entry is None:
            if len(cache) >= MAX_PREPARED:
                return statement, parameters
            names: list = []

            def positional(match: "re.Match[str]") -> str:
                names.append(match.group(1))
                return f"${len(names)}"

            name = f"nw_q{len(cache)}"
            cursor.execute(f"PREPARE {name} AS " + _PYFORMAT.sub(positional, statement).replace("%%", "%"))
            entry = cache[statement] = (name, names)
        name, names = entry
        if not names:
            return f"EXECUTE {name}", {}
        return f"EXECUTE {name}(" + ", ".join(["%s"] * len(names)) + ")", [parameters[n] for n in names]


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle for ``PING_IDLE_S`` (module docstring)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["nw_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("nw_idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_IDLE_S:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except engine.dialect.dbapi.Error as error:  # the pool replaces the connection and tries again
            raise exc.DisconnectionError(str(error)) from error


def _append_postgres(url: str, kwargs: Dict[str, Any]) -> Engine:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")

    _ping_when_idle(engine)
    _use_prepared_statements(engine)
    return engine


def _read_only_postgres(url: str, kwargs: Dict[str, Any]) -> Engine:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_session(readonly=True, autocommit=True)

    _use_prepared_statements(engine)
    return engine


def _create(url: str) -> Tuple[Engine, Engine, Engine, Engine]:
    backend = make_url(url).get_backend_name()
    kwargs: Dict[str, Any] = {"future": True}
    if backend == "sqlite":
        database = make_url(url).database
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            kwargs.update(poolclass=QueuePool, pool_size=5, max_overflow=15)
    elif backend == "postgresql":
        kwargs.update(pool_size=5, max_overflow=15)
        if make_url(url).get_driver_name() == "psycopg2":
            kwargs["executemany_mode"] = "values_plus_batch"
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
        write = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        return engine, write, engine.execution_options(**{_BEGIN_OPTION: "READ"}), write
    if backend == "postgresql":
        _ping_when_idle(engine)
        _use_prepared_statements(engine)
        # Lookups skip the ping (a fifth of a lookup's time); a connection broken by a server restart
        # fails one lookup and is replaced, and none lives longer than READ_RECYCLE_S.
        read_kwargs = {**kwargs, "pool_recycle": READ_RECYCLE_S}
        return engine, engine, _read_only_postgres(url, read_kwargs), _append_postgres(url, kwargs)
    return engine, engine, engine, engine


def get_engine(database_url: Optional[str] = None, *, write: bool = False, read_only: bool = False,
               append: bool = False) -> Engine:
    """The engine for ``database_url`` (default: ``DATABASE_URL``), created once per process.

    ``write=True``: for units of work (``BEGIN IMMEDIATE`` on SQLite); ``read_only=True``: the
    read-only variant used by :func:`read_scope`; ``append=True``: the one of :func:`append_scope`.
    """
    url = resolve_database_url(database_url)
    key = (os.getpid(), url)  # never share pooled connections with a forked child
    engines = _engines.get(key)
    if engines is None:
        with _lock:
            engines = _engines.get(key)
            if engines is None:
                engines = _create(url)
                _engines[key] = engines
    return engines[3] if append else engines[1] if write else engines[2] if read_only else engines[0]


def dispose_engines(database_url: Optional[str] = None) -> None:
    """Close pooled connections (all engines, or only those for ``database_url``)."""
    url = resolve_database_url(database_url) if database_url else None
    with _lock:
        for key in list(_engines):
            if url is None or key[1] == url:
                engines = _engines.pop(key)
                if key[0] == os.getpid():
                    for engine in {id(e.pool): e for e in engines}.values():
                        engine.dispose()


@contextmanager
def _scope(engine: Engine) -> Iterator[Session]:
    session = Session(engine, future=True, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextmanager
def session_scope(database_url: Optional[str] = None) -> Iterator[Session]:
    """One session, one transaction: commit on success, roll back on any exception."""
    with _scope(get_engine(database_url)) as session:
        yield session


@contextmanager
def unit_of_work(database_url: Optional[str] = None, *, durable: bool = True) -> Iterator[Session]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite). Commit on success, else roll back.

    ``durable=False`` (PostgreSQL): the commit returns before its WAL record is flushed to disk
    (``SET LOCAL synchronous_commit TO OFF``; ~1.5 ms less per commit on these machines). The
    transaction is still atomic and the database stays consistent; a crash of the PostgreSQL server
    can lose what was committed in the last ~0.6 s. Only for records that are also kept elsewhere
    (the interaction log: the conversation is in the tracker store too); money, disputes, audit and
    verification failures always commit durably.
    """
    engine = get_engine(database_url, write=True)
    shared = _shared.get()
    if shared is not None and shared.engine is engine:  # inside one_transaction: a savepoint of it
        with shared.session.begin_nested():
            yield shared.session
        return
    with _scope(engine) as session:
        if not durable and dialect_name(session) == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield session


class _SharedTransaction:
    __slots__ = ("engine", "session", "callbacks")

    def __init__(self, engine: Engine, session: Session) -> None:
        self.engine, self.session = engine, session
        self.callbacks: List[Callable[[], None]] = []


_shared: "ContextVar[Optional[_SharedTransaction]]" = ContextVar("billing_shared_transaction", default=None)


@contextmanager
def one_transaction(database_url: Optional[str] = None) -> Iterator[None]:
    """Every :func:`unit_of_work` on this database inside the block joins ONE durable transaction.

    Each of them runs in a savepoint of it: one that raises is undone on its own (the caller may go
    on), the rest commit together when the block ends, or not at all if an exception leaves it. A
    dispute, its refund, its outcome and the goodwill credit are then one commit instead of four
    (a confirmed refund on ``make bench``'s billing database: 32.8 -> 30.4 ms median), and a failure
    half-way leaves nothing half-done. Callbacks registered with :func:`after_commit` inside run after
    the commit. Nested blocks join the outer one.
    """
    if _shared.get() is not None:
        yield
        return
    with unit_of_work(database_url) as session:
        shared = _SharedTransaction(session.get_bind(), session)  # the engine unit_of_work looked up
        token = _shared.set(shared)
        try:
            yield
        finally:
            _shared.reset(token)
    for callback in shared.callbacks:
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once what was just written is committed: now, or when the enclosing
    :func:`one_transaction` commits (never, if it rolls back)."""
    shared = _shared.get()
    if shared is None:
        callback()
    else:
        shared.callbacks.append(callback)


@contextmanager
def append_scope(database_url: Optional[str] = None) -> Iterator[Session]:
    """For ONE statement that appends a record kept elsewhere too (the interaction log).

    On PostgreSQL the statement commits on its own, without waiting for the disk flush (see the
    module docstring): one round trip. Elsewhere, and for anything more than one statement, use
    :func:`unit_of_work` - two statements here would not be one transaction.
    """
    engine = get_engine(database_url, append=True)
    if engine.dialect.name != "postgresql":
        with unit_of_work(database_url, durable=False) as session:
            yield session
        return
    session = Session(engine, future=True, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


@contextmanager
def read_scope(database_url: Optional[str] = None) -> Iterator[Session]:
    """A read-only session for lookups (writes raise an error)."""
    with _scope(get_engine(database_url, read_only=True)) as session:
        yield session


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql`` for the session's bind."""
    return session.get_bind().dialect.name
