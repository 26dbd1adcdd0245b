"""Run the billing schema migrations from code: ``python -m bot.billing.migrate [--database-url URL]``.

No alembic.ini is needed: :func:`alembic_config` points Alembic at ``bot/billing/migrations``.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from bot.billing.config import resolve_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "billing_alembic_version"


def alembic_config(database_url: Optional[str] = None) -> Config:
    """An Alembic ``Config`` for the billing migrations and ``database_url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", resolve_database_url(database_url).replace("%", "%%"))
    return cfg


def upgrade(database_url: Optional[str] = None, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: Optional[str] = None, revision: str = "base") -> None:
    """Downgrade the schema to ``revision`` (default ``base``: drops every billing table)."""
    command.downgrade(alembic_config(database_url), revision)


def current_revision(database_url: Optional[str] = None) -> Optional[str]:
    """The revision the database is at, or ``None`` if it was never migrated."""
    engine = create_engine(resolve_database_url(database_url), future=True, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest revision in ``bot/billing/migrations/versions``."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Upgrade the billing database schema.")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: DATABASE_URL or var/billing.db)")
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    upgrade(args.database_url, args.revision)
    print(f"billing schema at {current_revision(args.database_url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
