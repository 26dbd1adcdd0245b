"""Alembic environment for the billing schema.

Used through :func:`bot.billing.migrate.upgrade`, which builds the Alembic ``Config`` in code (no
alembic.ini). The version table is ``billing_alembic_version`` so the billing schema can share a
database with other components.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from bot.billing.models import metadata

VERSION_TABLE = "billing_alembic_version"

config = context.config


def include_name(name: object, type_: str, _parent_names: object) -> bool:
    """Autogenerate ignores SQLite's internal tables (``sqlite_stat1`` after ANALYZE)."""
    return not (type_ == "table" and str(name).startswith("sqlite_"))


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        compare_type=True,
        include_name=include_name,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``--sql`` mode)."""
    url = config.get_main_option("sqlalchemy.url")
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a connection given in ``config.attributes`` or one made from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), future=True, poolclass=NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
