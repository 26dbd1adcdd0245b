"""Alembic migrations: upgrade to head on SQLite and PostgreSQL, match the models, downgrade."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from bot.billing.migrate import VERSION_TABLE, current_revision, downgrade, head_revision, upgrade
from bot.billing.migrate import main as migrate_main
from bot.billing.models import metadata

EXPECTED_TABLES = {
    "customers", "plans", "plan_prices", "subscriptions", "invoices", "invoice_lines", "payments", "disputes",
    "corrections", "payment_plans", "payment_plan_installments", "payment_plan_invoices", "handoffs",
    "interaction_log", "audit_log", "idempotency_keys", "seeded_errors", "billing_meta", "agents",
}


def _tables(url: str) -> set:
    engine = create_engine(url, future=True, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_creates_schema_matching_models(empty_db: str) -> None:
    assert current_revision(empty_db) is None
    upgrade(empty_db)
    assert current_revision(empty_db) == head_revision()
    assert _tables(empty_db) == EXPECTED_TABLES | {VERSION_TABLE}
    engine = create_engine(empty_db, future=True, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "version_table": VERSION_TABLE})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()
    _assert_lookup_columns_indexed(empty_db)


def test_cli_upgrade_is_repeatable_and_downgrade_drops_everything(
        empty_db: str, capsys: pytest.CaptureFixture) -> None:
    assert migrate_main(["--database-url", empty_db]) == 0
    assert head_revision() in capsys.readouterr().out
    assert current_revision(empty_db) == head_revision()
    upgrade(empty_db)  # already at head: nothing to do
    downgrade(empty_db, "base")
    assert current_revision(empty_db) is None
    assert _tables(empty_db) & EXPECTED_TABLES == set()


def _assert_lookup_columns_indexed(empty_db: str) -> None:
    engine = create_engine(empty_db, future=True, poolclass=NullPool)
    try:
        insp = inspect(engine)

        def indexed(table: str) -> set:
            cols = {tuple(ix["column_names"]) for ix in insp.get_indexes(table)}
            cols |= {tuple(uq["column_names"]) for uq in insp.get_unique_constraints(table)}
            return {c[0] for c in cols}

        assert {"account_number", "email", "phone"} <= indexed("customers")
        assert {"number", "customer_id"} <= indexed("invoices")
        assert "invoice_id" in indexed("invoice_lines")
        assert {"invoice_id", "customer_id"} <= indexed("payments")
        assert {"invoice_id", "customer_id", "reference"} <= indexed("corrections")
        assert {"conversation_id", "customer_id"} <= indexed("interaction_log")
    finally:
        engine.dispose()
