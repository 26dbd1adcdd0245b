"""Seed the billing database: plan catalogue, the six demo accounts and generated customers.

``seed_database()`` runs the migrations first and does nothing if the database was already
seeded (the ``billing_meta`` row ``seeded_on`` exists), unless ``reset=True``, which drops and
recreates the billing schema. Everything is inserted in one transaction.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Dict, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.dates import today_utc
from bot.billing.db import dispose_engines, get_engine
from bot.billing.migrate import downgrade, upgrade
from bot.billing.models import BillingMeta, Customer, Invoice, InvoiceLine, Payment, SeededError, Subscription
from bot.billing.seed.bulk import BulkWriter, foreign_keys_checked_once, load_pipelined, table_counts
from bot.billing.seed.catalog import seed_catalog
from bot.billing.seed.demo import record_demo_errors, seed_demo
from bot.billing.seed.generated import COLUMNS, Generator, StartIds

DEFAULT_CUSTOMERS = 1000
DEFAULT_RNG_SEED = 20240601
TABLES = tuple(COLUMNS)


@dataclass(frozen=True)
class SeedReport:
    seeded: bool  # False when the database was already seeded and nothing was done
    seeded_on: date
    generated_customers: int
    counts: Dict[str, int]
    seconds: float


def _is_seeded(session: Session) -> Optional[date]:
    value = session.execute(select(BillingMeta.value).where(BillingMeta.key == "seeded_on")).scalar()
    return date.fromisoformat(value) if value else None


def _start_ids(session: Session) -> StartIds:
    def next_id(model: type) -> int:
        return (session.execute(select(func.max(model.id))).scalar() or 0) + 1

    return StartIds(customers=next_id(Customer), subscriptions=next_id(Subscription), invoices=next_id(Invoice),
                    invoice_lines=next_id(InvoiceLine), payments=next_id(Payment),
                    seeded_errors=next_id(SeededError))


def seed_database(
    database_url: Optional[str] = None,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    reset: bool = False,
    rng_seed: int = DEFAULT_RNG_SEED,
    today: Optional[date] = None,
    analyze: bool = True,
) -> SeedReport:
    """Migrate, then seed demo accounts + ``customers`` generated customers (idempotent)."""
    started = time.perf_counter()
    today = today or today_utc()
    if reset:
        dispose_engines(database_url)
        downgrade(database_url, "base")
    upgrade(database_url)
    engine = get_engine(database_url, write=True)
    with engine.connect() as connection:
        with connection.begin():
            session = Session(bind=connection, future=True)
            already = _is_seeded(session)
            if already is not None:
                session.close()
                counts = table_counts(connection, TABLES)
                return SeedReport(False, already, 0, counts, time.perf_counter() - started)
            plans = seed_catalog(session)
            record_demo_errors(session, seed_demo(session, plans, today))
            start = _start_ids(session)
            session.add_all([BillingMeta(key="seeded_on", value=today.isoformat()),
                             BillingMeta(key="generated_customers", value=str(customers)),
                             BillingMeta(key="rng_seed", value=str(rng_seed))])
            session.flush()
            session.close()
            writer = BulkWriter(connection)
            batches = (batch.rows for batch in Generator(plans, today, rng_seed, start).batches(customers))
            with foreign_keys_checked_once(connection, TABLES):
                load_pipelined(writer, batches, COLUMNS)
            writer.reset_sequences(TABLES)
        if analyze:
            with connection.begin():
                connection.exec_driver_sql("ANALYZE")
        counts = table_counts(connection, TABLES)
    return SeedReport(True, today, customers, counts, time.perf_counter() - started)
