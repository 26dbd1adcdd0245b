"""Exact money, database configuration and session handling."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.billing.config import DEFAULT_SQLITE_PATH, PROJECT_ROOT, resolve_database_url
from bot.billing.db import get_engine, read_scope, session_scope, unit_of_work
from bot.billing.models import BillingMeta, Invoice, Payment
from bot.billing.money import Money, format_usd, to_money

D = Decimal


def test_to_money_refuses_floats_and_sub_cents() -> None:
    assert to_money("49") == D("49.00") and to_money(29) == D("29.00") and to_money("$1,240.00") == D("1240.00")
    for bad in (49.0, True):
        with pytest.raises(TypeError):
            to_money(bad)
    for bad in ("49.001", "abc", "NaN", "99999999999.00"):
        with pytest.raises(ValueError):
            to_money(bad)
    assert format_usd(D("1240")) == "$1,240.00" and format_usd(D("-5")) == "-$5.00"


def test_money_columns_round_trip_exactly(db: str) -> None:
    with unit_of_work(db) as s:
        payment = s.execute(select(Payment).order_by(Payment.id).limit(1)).scalar_one()
        original = payment.amount
        payment.amount = D("9999999999.99")
    with session_scope(db) as s:
        assert s.execute(select(Payment.amount).where(Payment.id == payment.id)).scalar_one() == D("9999999999.99")
        # sums are exact too: 0.10 + 0.20 style errors cannot happen
        total = s.execute(select(Invoice.total).where(Invoice.number == "INV-0142")).scalar_one()
        assert type(total) is Decimal and total == D("98.00")
    with unit_of_work(db) as s:
        s.execute(select(Payment).where(Payment.id == payment.id)).scalar_one().amount = original


def test_sqlite_stores_integer_cents_postgres_numeric(seeded_ro: str) -> None:
    with session_scope(seeded_ro) as s:
        if s.get_bind().dialect.name == "sqlite":
            assert s.execute(text("SELECT typeof(total), total FROM invoices WHERE number='INV-0142'")).one() == (
                "integer", 9800)
        else:
            assert s.execute(text("SELECT pg_typeof(total)::text, total FROM invoices WHERE number='INV-0142'")
                             ).one() == ("numeric", D("98.00"))
    with pytest.raises(TypeError):
        Money().process_bind_param(1.5, get_engine(seeded_ro).dialect)


def test_sqlite_pragmas(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"
    with session_scope(url) as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_engines_are_cached_per_url(seeded_ro: str) -> None:
    assert get_engine(seeded_ro) is get_engine(seeded_ro)
    assert get_engine(seeded_ro, write=True).pool is get_engine(seeded_ro).pool


def test_session_scope_rolls_back_on_error(db: str) -> None:
    with pytest.raises(RuntimeError):
        with unit_of_work(db) as s:
            s.add(BillingMeta(key="scratch", value="x"))
            s.flush()
            raise RuntimeError("boom")
    with session_scope(db) as s:
        assert s.get(BillingMeta, "scratch") is None


def test_read_scope_refuses_writes(db: str) -> None:
    with pytest.raises(DBAPIError):
        with read_scope(db) as s:
            s.add(BillingMeta(key="scratch", value="x"))
            s.flush()
    with session_scope(db) as s:  # the general scope writes and commits
        s.add(BillingMeta(key="scratch", value="x"))
    with read_scope(db) as s:
        assert s.get(BillingMeta, "scratch").value == "x"
    with unit_of_work(db) as s:
        s.delete(s.get(BillingMeta, "scratch"))


def test_database_url_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr("bot.billing.config._env_loaded", True)  # ignore a developer's .env
    assert resolve_database_url() == f"sqlite:///{DEFAULT_SQLITE_PATH}"
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    assert resolve_database_url() == f"sqlite:///{PROJECT_ROOT / 'var' / 'other.db'}"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@h:5432/db")
    assert resolve_database_url() == "postgresql+psycopg2://u@h:5432/db"
    assert resolve_database_url(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"


def test_only_non_durable_units_of_work_skip_the_wal_flush(db: str) -> None:
    """``durable=False`` (the interaction log) commits without waiting for the disk on PostgreSQL;
    every other unit of work, and the next transaction on the same pooled connection, waits."""
    from bot.billing.interactions import log_interaction

    def setting(durable: bool) -> str:
        with unit_of_work(db, durable=durable) as s:
            if s.get_bind().dialect.name != "postgresql":
                return "n/a"
            return s.execute(text("SHOW synchronous_commit")).scalar()

    postgres = setting(True) != "n/a"
    assert [setting(True), setting(False), setting(True)] == (["on", "off", "on"] if postgres else ["n/a"] * 3)
    row_id = log_interaction(conversation_id="durability", actor="bot", text="kept", database_url=db)
    with read_scope(db) as s:
        assert s.execute(text("SELECT text FROM interaction_log WHERE id = :i"), {"i": row_id}).scalar() == "kept"


def test_the_interaction_log_appends_in_one_statement_that_skips_the_wal_flush(db: str) -> None:
    """PostgreSQL: ``append_scope`` is an autocommit connection with synchronous_commit off, so the
    log's INSERT is its whole transaction; the row is there and other units of work still wait."""
    from sqlalchemy import event

    from bot.billing.db import append_scope
    from bot.billing.interactions import log_interaction

    engine = get_engine(db, append=True)
    if engine.dialect.name != "postgresql":
        assert engine is get_engine(db, write=True)  # SQLite: a unit of work, as before
        return
    with append_scope(db) as s:
        assert s.execute(text("SHOW synchronous_commit")).scalar() == "off"
        assert s.execute(text("SHOW transaction_isolation")).scalar() == "read committed"
        assert s.connection().connection.dbapi_connection.autocommit is True
    statements: list = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        row_id = log_interaction(conversation_id="append-once", actor="customer", text="hi", database_url=db)
        with unit_of_work(db) as s:  # a durable unit of work on the other pool
            assert s.execute(text("SHOW synchronous_commit")).scalar() == "on"
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    # one statement: the INSERT, or its EXECUTE once the connection has prepared it (bot/billing/db.py)
    assert len(statements) == 1 and statements[0].startswith(("INSERT INTO interaction_log", "EXECUTE nw_q"))
    with read_scope(db) as s:
        assert s.execute(text("SELECT text FROM interaction_log WHERE id = :i"), {"i": row_id}).scalar() == "hi"
    with pytest.raises(Exception):  # an unknown account: nothing is written
        log_interaction(conversation_id="append-once", actor="customer", text="x", account_number="ACC-0000",
                        database_url=db)
    with read_scope(db) as s:
        assert s.execute(text("SELECT count(*) FROM interaction_log WHERE conversation_id = 'append-once'")).scalar() == 1


def test_a_pooled_connection_is_pinged_only_after_sitting_idle(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a connection that died while idle for ``PING_IDLE_S`` is found by the ping and
    replaced before the unit of work runs; one used a moment ago is not pinged, so its death shows as
    ``connection_invalidated`` (which the actions' guard runs once more on a fresh connection)."""
    from sqlalchemy import create_engine

    import bot.billing.db as dbmod

    engine = get_engine(db, write=True)
    if engine.dialect.name != "postgresql":
        return
    admin = create_engine(db, isolation_level="AUTOCOMMIT")
    now = dbmod.time.monotonic

    def backend() -> int:
        with unit_of_work(db) as s:
            return s.execute(text("SELECT pg_backend_pid()")).scalar()

    def kill(pid: int) -> None:
        with admin.connect() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()

    try:
        engine.dispose()  # one pooled connection from here on
        pid = backend()
        assert backend() == pid
        kill(pid)
        monkeypatch.setattr(dbmod.time, "monotonic", lambda: now() + dbmod.PING_IDLE_S + 1)  # idle long enough
        replaced = backend()
        assert replaced != pid
        monkeypatch.setattr(dbmod.time, "monotonic", now)
        assert backend() == replaced
        kill(replaced)  # used a moment ago: not pinged
        with pytest.raises(DBAPIError) as failure:
            backend()
        assert failure.value.connection_invalidated
        assert backend() not in (pid, replaced)  # the pool let the broken one go
    finally:
        admin.dispose()
