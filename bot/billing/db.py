"""Engines (cached per process and URL) and one ``Session`` per unit of work.

There is no module-level session. Callers write::

    with read_scope() as session:           # lookups: read-only, cheapest
        ...
    with unit_of_work() as session:         # writes: one transaction, serialised on SQLite
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
trips per lookup; writes through it fail ("read-only transaction").
"""
from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Tuple

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from bot.billing.config import resolve_database_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_RECYCLE_S = 300
SQLITE_CACHE_KIB = 16_384
SQLITE_MMAP_BYTES = 256 * 1024 * 1024
_BEGIN_OPTION = "billing_sqlite_begin"

_engines: Dict[Tuple[int, str], Tuple[Engine, Engine, Engine]] = {}  # default, write, read
_lock = threading.Lock()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() not in ("wal", "memory"):
            cursor.execute("PRAGMA journal_mode=WAL")
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
MAX_PREPARED = 200  # per connection; IN lists of new lengths beyond this run unprepared


def _use_prepared_statements(engine: Engine) -> None:
    """Lookups run as server-side prepared statements (PREPARE once per connection, then EXECUTE).

    psycopg2 sends every statement as text, and PostgreSQL plans it again each time: for the short
    lookups here planning costs as much as running them. The first use of a statement on a connection
    prepares it; later uses send only ``EXECUTE name(params)``.
    """

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _prepare(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool):
        if executemany or not isinstance(parameters, dict):
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


def _read_only_postgres(url: str, kwargs: Dict[str, Any]) -> Engine:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_session(readonly=True, autocommit=True)

    _use_prepared_statements(engine)
    return engine


def _create(url: str) -> Tuple[Engine, Engine, Engine]:
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
        kwargs.update(pool_size=5, max_overflow=15, pool_pre_ping=True)
        if make_url(url).get_driver_name() == "psycopg2":
            kwargs["executemany_mode"] = "values_plus_batch"
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        _configure_sqlite(engine)
        return (engine, engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}),
                engine.execution_options(**{_BEGIN_OPTION: "READ"}))
    if backend == "postgresql":
        # Lookups skip the pre-ping round trip (a fifth of a lookup's time); a connection broken by a
        # server restart fails one lookup and is replaced, and none lives longer than READ_RECYCLE_S.
        read_kwargs = {**kwargs, "pool_pre_ping": False, "pool_recycle": READ_RECYCLE_S}
        return engine, engine, _read_only_postgres(url, read_kwargs)
    return engine, engine, engine


def get_engine(database_url: Optional[str] = None, *, write: bool = False, read_only: bool = False) -> Engine:
    """The engine for ``database_url`` (default: ``DATABASE_URL``), created once per process.

    ``write=True``: for units of work (``BEGIN IMMEDIATE`` on SQLite); ``read_only=True``: the
    read-only variant used by :func:`read_scope`.
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
    return engines[1] if write else engines[2] if read_only else engines[0]


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
    with _scope(get_engine(database_url, write=True)) as session:
        if not durable and dialect_name(session) == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield session


@contextmanager
def read_scope(database_url: Optional[str] = None) -> Iterator[Session]:
    """A read-only session for lookups (writes raise an error)."""
    with _scope(get_engine(database_url, read_only=True)) as session:
        yield session


def dialect_name(session: Session) -> str:
    """``sqlite`` or ``postgresql`` for the session's bind."""
    return session.get_bind().dialect.name
