"""Where the billing database lives.

``DATABASE_URL`` comes from the environment (a ``.env`` file in the project root is loaded with
python-dotenv first, without overriding variables that are already set). Without it the billing
core uses an SQLite file ``var/billing.db`` in the project root. Relative SQLite paths such as
``sqlite:///var/billing.db`` are resolved against the project root, not the working directory,
so the action server, the seed CLI and the tests agree on the file whatever directory they run in.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

from dotenv import load_dotenv
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "var" / "billing.db"

_env_loaded = False


def load_env() -> None:
    """Load ``.env`` from the project root once (existing environment variables win)."""
    global _env_loaded
    if not _env_loaded:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        _env_loaded = True


def resolve_database_url(database_url: Optional[str] = None) -> str:
    """Return the database URL to use: the argument, else ``DATABASE_URL``, else the SQLite default.

    For SQLite files the parent directory is created and relative paths are made absolute
    (relative to the project root).
    """
    if not database_url:
        load_env()
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
    return _resolve(database_url)


@lru_cache(maxsize=64)
def _resolve(database_url: str) -> str:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return database_url
    path = Path(url.database)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(url.set(database=str(path)))
