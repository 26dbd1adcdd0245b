"""Fixtures for the billing-core tests: every database-backed test runs on SQLite and PostgreSQL.

PostgreSQL: ``BILLING_TEST_PG_URL`` (default ``postgresql+psycopg2://postgres@127.0.0.1:5432/postgres``)
is used only to CREATE/DROP uniquely named test databases. If the server is unreachable the
PostgreSQL variants are skipped locally, but fail on CI (``CI=true``).
"""
from __future__ import annotations

import os
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import psycopg2
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from bot.billing.db import dispose_engines, session_scope, unit_of_work
from bot.billing.models import Invoice
from bot.billing.seed import seed_database
from tests.billing.support import GENERATED_CUSTOMERS, SEED_DAY, TEMPLATE_CUSTOMERS

PG_ADMIN_URL = os.environ.get("BILLING_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _dsn(url: str) -> dict:
    u = make_url(url)
    return {"host": u.host or "127.0.0.1", "port": u.port or 5432, "user": u.username or "postgres",
            "password": u.password, "dbname": u.database or "postgres"}


class PostgresServer:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: List[str] = []

    def _admin(self):
        conn = psycopg2.connect(connect_timeout=3, **_dsn(self.admin_url))
        conn.autocommit = True
        return conn

    def create(self, template: str = "") -> str:
        name = f"billing_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        finally:
            conn.close()
        self.created.append(name)
        return str(make_url(self.admin_url).set(database=name))

    def drop(self, name: str) -> None:
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()

    def drop_all(self) -> None:
        """Drop every database this session created (in parallel: each DROP waits for a checkpoint)."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.drop, self.created))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer(PG_ADMIN_URL)
    try:
        server._admin().close()
    except psycopg2.OperationalError as exc:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}".strip()
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message + " (set CI=true to make this a failure)")
    yield server
    dispose_engines()
    server.drop_all()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def new_database(backend: str, request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """Factory: a new empty database URL for this backend (optionally a copy of a template)."""
    server = request.getfixturevalue("pg_server") if backend == "postgres" else None

    def make(template_url: str = "") -> str:
        if server is not None:
            template = make_url(template_url).database if template_url else ""
            return server.create(template)
        path = tmp_path_factory.mktemp("sqlite") / "billing.db"
        if template_url:  # the backup API copies committed pages, WAL included
            source, target = sqlite3.connect(make_url(template_url).database), sqlite3.connect(path)
            with target:
                source.backup(target)
            source.close()
            target.close()
        return f"sqlite:///{path}"

    return make


@pytest.fixture
def empty_db(new_database: Callable[..., str]) -> str:
    """An empty database (no schema)."""
    return new_database()


@pytest.fixture(scope="session")
def seeded_ro(new_database: Callable[..., str]) -> str:
    """Demo accounts + 1,000 generated customers. Tests must NOT change it."""
    url = new_database()
    seed_database(url, customers=GENERATED_CUSTOMERS, today=SEED_DAY)
    return url


@pytest.fixture(scope="session")
def seeded_template(new_database: Callable[..., str]) -> str:
    """Demo accounts + a few generated customers; only ever copied, never connected to after seeding."""
    url = new_database()
    seed_database(url, customers=TEMPLATE_CUSTOMERS, today=SEED_DAY)
    dispose_engines(url)  # PostgreSQL cannot copy a template that has connections
    return url


# Tables that operations, the interaction log and handoffs write to, children first.
MUTABLE_TABLES = ("payment_plan_invoices", "payment_plan_installments", "payment_plans", "corrections", "disputes",
                  "audit_log", "idempotency_keys", "handoffs", "interaction_log")
FIXED_TABLES = ("customers", "subscriptions", "invoices", "invoice_lines", "payments", "plans", "plan_prices")


def _snapshot(url: str) -> Tuple[Dict[int, str], Dict[str, int]]:
    with session_scope(url) as session:
        statuses = dict(session.execute(select(Invoice.id, Invoice.status)).all())
        counts = {t: session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in FIXED_TABLES}
    return statuses, counts


@pytest.fixture(scope="session")
def work_db(new_database: Callable[..., str], seeded_template: str) -> Tuple[str, Dict[int, str], Dict[str, int]]:
    """A copy of the seeded template shared by the tests that change money (reset after each)."""
    url = new_database(seeded_template)
    return (url, *_snapshot(url))


@pytest.fixture
def db(work_db: Tuple[str, Dict[int, str], Dict[str, int]]) -> Iterator[str]:
    """The seeded work database; whatever the test wrote is removed afterwards (cheaper than a
    fresh PostgreSQL database per test)."""
    url, statuses, counts = work_db
    yield url
    with unit_of_work(url) as session:
        for table in MUTABLE_TABLES:
            session.execute(text(f"DELETE FROM {table}"))
        for invoice_id, status in session.execute(select(Invoice.id, Invoice.status)).all():
            if statuses[invoice_id] != status:
                session.execute(update(Invoice).where(Invoice.id == invoice_id).values(status=statuses[invoice_id]))
    assert _snapshot(url) == (statuses, counts), "a test changed seeded ledger rows"


@pytest.fixture
def fresh_db(new_database: Callable[..., str], seeded_template: str) -> Iterator[str]:
    """A private copy of the seeded template (for tests that drop or reseed the schema)."""
    url = new_database(seeded_template)
    yield url
    dispose_engines(url)


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write a policy.yml variant (dotted keys override the defaults) and make it the active policy."""
    import yaml

    from bot.billing.policy import DEFAULT_POLICY_FILE

    def make(**overrides: object) -> Path:
        data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
        for dotted, value in overrides.items():
            node = data
            *parents, leaf = dotted.split("__")
            for key in parents:
                node = node[key]
            node[leaf] = value
        path = tmp_path / f"policy-{uuid.uuid4().hex[:6]}.yml"
        path.write_text(yaml.safe_dump(data))
        monkeypatch.setenv("BILLING_POLICY_FILE", str(path))
        return path

    return make
