"""SQLite set-up shared by the billing core and the channels' state files.

Switching a database file to write-ahead logging needs an exclusive lock, and SQLite answers
"database is locked" at once - without waiting out ``busy_timeout`` - when another connection holds
a lock at that moment. Several servers opening the same file as they start (two Rasa replicas on one
channel-state file, say) could therefore fail to start. The mode is asked first (a file already in
WAL mode, the usual case, needs no lock) and the switch is retried for a few seconds.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any

WAL_ATTEMPTS = 60
WAL_RETRY_S = 0.05


def enable_wal(dbapi_connection: Any, attempts: int = WAL_ATTEMPTS) -> str:
    """Put the file of this sqlite3 connection in WAL mode (unless in memory); return the mode."""
    cursor = dbapi_connection.cursor()
    try:
        mode = str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if mode in ("wal", "memory"):
            return mode
        for attempt in range(attempts):
            try:
                return str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == attempts - 1:
                    raise
                time.sleep(WAL_RETRY_S)
        return mode  # pragma: no cover - the loop returns or raises
    finally:
        cursor.close()
