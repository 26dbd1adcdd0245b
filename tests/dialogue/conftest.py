"""Fixtures for the dispute-case tests: one small seeded SQLite template per session, copied for
every test that changes money (SQLite backup API: fast, and the template is never written to)."""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

import pytest

from bot.billing.dates import add_months, month_start, today_utc
from bot.billing.db import dispose_engines
from bot.billing.seed import seed_database

SEED_DAY: date = today_utc()
CUSTOMERS = 20


def month(offset: int) -> date:
    """First day of the month ``offset`` months from the seed day's month (the demo data's M(k))."""
    return add_months(month_start(SEED_DAY), offset)


def due(offset: int) -> date:
    return month(offset) + timedelta(days=14)


@pytest.fixture(autouse=True)
def default_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BILLING_POLICY_FILE", raising=False)


@pytest.fixture(scope="session")
def template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dialogue") / "template.db"
    url = f"sqlite:///{path}"
    seed_database(url, customers=CUSTOMERS, today=SEED_DAY)
    dispose_engines(url)
    return path


def _copy(source: Path, target: Path) -> str:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def ro_db(template_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Shared read-only copy: tests using it must not change anything."""
    return _copy(template_path, tmp_path_factory.mktemp("dialogue_ro") / "ro.db")


@pytest.fixture
def db(template_path: Path, tmp_path: Path) -> Iterator[str]:
    """A private copy of the seeded database for a test that changes money."""
    url = _copy(template_path, tmp_path / "work.db")
    yield url
    dispose_engines(url)
