"""Switching a SQLite file to WAL while another connection holds a lock: retried, not a failed start."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bot.sqlite import enable_wal


def locked_file(path: Path) -> sqlite3.Connection:
    """A fresh rollback-journal file with a read transaction open on it (as a second server might)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN")
    holder.execute("SELECT * FROM t").fetchall()
    return holder


def test_the_switch_waits_for_the_lock_to_go_and_then_succeeds(tmp_path: Path) -> None:
    holder = locked_file(tmp_path / "a.db")
    opener = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    opener.execute("PRAGMA busy_timeout=0")  # SQLite does not always wait here: fail at once, as it can
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        opener.execute("PRAGMA journal_mode=WAL")  # the plain switch fails while the lock is held
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    assert enable_wal(opener) == "wal"
    assert 0.25 < time.monotonic() - started < 3
    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert enable_wal(opener) == "wal"  # already WAL: nothing to switch
    release.join()
    holder.close()
    opener.close()


def test_a_lock_that_never_goes_still_fails_after_the_attempts(tmp_path: Path) -> None:
    holder = locked_file(tmp_path / "b.db")
    opener = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    opener.execute("PRAGMA busy_timeout=0")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(opener, attempts=3)
    holder.close()
    opener.close()


def test_memory_databases_stay_in_memory() -> None:
    assert enable_wal(sqlite3.connect(":memory:")) == "memory"
