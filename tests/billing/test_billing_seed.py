"""Seed contents: exact amounts for every demo account, generated data, idempotent seeding."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from typing import List

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from bot.billing.config import PROJECT_ROOT
from bot.billing.dates import add_months, month_start
from bot.billing.db import get_engine, session_scope
from bot.billing.migrate import VERSION_TABLE
from bot.billing.lookup import get_customer_by_account, get_invoice, list_invoices
from bot.billing.models import Customer, Invoice, Payment, Plan, PlanPrice, SeededError, Subscription, metadata
from bot.billing.seed import seed_database
from bot.billing.seed.__main__ import main as seed_main
from bot.billing.seed.bulk import BulkWriter, foreign_keys_checked_once
from bot.billing.seed.generated import COLUMNS
from tests.billing.support import GENERATED_CUSTOMERS, SEED_DAY, count

D = Decimal
PREV_MONTH = add_months(month_start(SEED_DAY), -1)


def _lines(number: str, url: str) -> List[tuple]:
    inv = get_invoice(number, database_url=url)
    assert inv is not None, number
    return [(l.kind, l.amount) for l in inv.lines]


def test_plan_catalogue(seeded_ro: str) -> None:
    with session_scope(seeded_ro) as s:
        prices = dict(s.execute(select(Plan.name, PlanPrice.amount).join(PlanPrice, PlanPrice.plan_id == Plan.id)).all())
    assert prices == {"Basic": D("29.00"), "Standard": D("49.00"), "Premium": D("79.00")}


@pytest.mark.parametrize("account,name,email,postal,phone", [
    ("ACC-1001", "Maria Lopez", "maria.lopez@example.com", "94110", "+14155550101"),
    ("ACC-1002", "James Carter", "james.carter@example.com", "10001", "+12125550102"),
    ("ACC-1003", "Priya Nair", "priya.nair@example.com", "60614", "+13125550103"),
    ("ACC-1004", "Tom Becker", "tom.becker@example.com", "73301", "+15125550104"),
    ("ACC-1005", "Aisha Bello", "aisha.bello@example.com", "98101", "+12065550105"),
    ("ACC-1006", "Liam O'Brien", "liam.obrien@example.com", "02134", "+16175550106"),
])
def test_demo_customers(seeded_ro: str, account: str, name: str, email: str, postal: str, phone: str) -> None:
    c = get_customer_by_account(account, database_url=seeded_ro)
    assert (c.name, c.email, c.postal_code, c.phone) == (name, email, postal, phone)
    invoices = list_invoices(account, database_url=seeded_ro, today=SEED_DAY)
    assert len(invoices) >= 6  # a few months of history
    history = [i for i in invoices if i.period_start <= add_months(PREV_MONTH, -2)]
    assert history and all(i.status == "paid" and i.balance_due == 0 for i in history)
    assert all(p.received_at.date() <= i.due_date for i in history for p in i.payments)


def test_maria_duplicate_plan_charge(seeded_ro: str) -> None:
    assert get_customer_by_account("ACC-1001", database_url=seeded_ro).customer_since.year == 2017
    inv = get_invoice("INV-0142", database_url=seeded_ro, today=SEED_DAY)
    assert inv.period_start == PREV_MONTH and inv.due_date == PREV_MONTH + timedelta(days=14)
    assert _lines("INV-0142", seeded_ro) == [("plan", D("49.00")), ("plan", D("49.00"))]
    assert inv.total == D("98.00") and inv.status == "paid" and inv.balance_due == D("0.00")
    assert [(p.method, p.amount) for p in inv.payments] == [("card", D("49.00")), ("card", D("49.00"))]


def test_james_late_fee_despite_payment_on_due_date(seeded_ro: str) -> None:
    inv = get_invoice("INV-0207", database_url=seeded_ro, today=SEED_DAY)
    assert _lines("INV-0207", seeded_ro) == [("plan", D("49.00")), ("late_fee", D("25.00"))]
    assert inv.total == D("74.00") and inv.balance_due == D("25.00")
    assert [(p.amount, p.received_at.date()) for p in inv.payments] == [(D("49.00"), inv.due_date)]


def test_priya_overdue_invoices(seeded_ro: str) -> None:
    a = get_invoice("INV-0311", database_url=seeded_ro, today=SEED_DAY)
    b = get_invoice("INV-0388", database_url=seeded_ro, today=SEED_DAY)
    assert (a.total, b.total) == (D("540.00"), D("700.00"))
    assert a.total + b.total == D("1240.00")
    assert a.payments == () and b.payments == () and a.overdue and b.overdue
    assert a.period_start == add_months(PREV_MONTH, -1) and b.period_start == PREV_MONTH


def test_tom_equipment_charge(seeded_ro: str) -> None:
    inv = get_invoice("INV-0455", database_url=seeded_ro, today=SEED_DAY)
    assert _lines("INV-0455", seeded_ro) == [("plan", D("49.00")), ("equipment", D("2500.00"))]
    assert inv.total == D("2549.00") and inv.payments == ()


def test_aisha_charged_after_cancellation(seeded_ro: str) -> None:
    inv = get_invoice("INV-0501", database_url=seeded_ro, today=SEED_DAY)
    assert _lines("INV-0501", seeded_ro) == [("plan", D("79.00"))]
    assert inv.status == "paid" and [p.amount for p in inv.payments] == [D("79.00")]
    with session_scope(seeded_ro) as s:
        sub = s.execute(select(Subscription).join(Customer, Customer.id == Subscription.customer_id)
                        .where(Customer.account_number == "ACC-1005")).scalar_one()
        assert sub.status == "cancelled"
        assert add_months(PREV_MONTH, -1) < sub.cancelled_at.date() < PREV_MONTH == inv.period_start


def test_liam_correct_invoice(seeded_ro: str) -> None:
    inv = get_invoice("INV-0610", database_url=seeded_ro, today=SEED_DAY)
    assert _lines("INV-0610", seeded_ro) == [("plan", D("29.00"))]
    assert inv.total == D("29.00") and inv.tax_amount == D("0.00") and inv.prices_include_tax
    assert inv.status == "paid" and inv.balance_due == D("0.00")


def test_generated_customers(seeded_ro: str) -> None:
    with session_scope(seeded_ro) as s:
        accounts = s.execute(select(Customer.account_number)).scalars().all()
        numbers = s.execute(select(Invoice.number)).scalars().all()
        errors = s.execute(select(SeededError.kind, SeededError.source)).all()
    generated = [a for a in accounts if a not in {f"ACC-100{i}" for i in range(1, 7)}]
    assert len(generated) == GENERATED_CUSTOMERS
    assert all(int(a[4:]) >= 2000 for a in generated)
    gen_numbers = [n for n in numbers if re.fullmatch(r"INV-\d{7}", n)]
    assert len(gen_numbers) >= 10 * GENERATED_CUSTOMERS and all(int(n[4:]) >= 1_000_000 for n in gen_numbers)
    assert len(numbers) == len(set(numbers))
    gen_errors = [k for k, src in errors if src == "generated"]
    assert 0.01 < len(gen_errors) / len(gen_numbers) < 0.03  # about 2%
    assert set(gen_errors) == {"duplicate_line", "late_fee_despite_payment", "charge_after_cancellation",
                               "price_mismatch"}
    assert sorted(k for k, src in errors if src == "demo") == [
        "charge_after_cancellation", "duplicate_line", "late_fee_despite_payment"]


def test_seeding_twice_does_nothing_and_reset_recreates(fresh_db: str) -> None:
    db = fresh_db
    report = seed_database(db, customers=50, today=SEED_DAY)
    assert report.seeded is False
    with session_scope(db) as s:
        before = s.execute(select(func.count()).select_from(Customer)).scalar_one()
    assert before == 26  # the template: 6 demo + 20 generated, not 6 + 50
    report = seed_database(db, customers=3, reset=True, today=SEED_DAY)
    assert report.seeded is True and report.counts["customers"] == 9


def test_seed_cli_is_idempotent(tmp_path, capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cmd = [sys.executable, "-m", "bot.billing.seed", "--customers", "5", "--database-url", url]
    first = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    assert "11 customers" in first
    assert seed_main(["--customers", "5", "--database-url", url]) == 0  # the same CLI, in-process
    assert "already seeded" in capsys.readouterr().out
    with session_scope(url) as s:
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 11


def test_schema_after_bulk_seed_still_matches_models(seeded_ro: str) -> None:
    # on PostgreSQL the seed drops and re-adds the bulk tables' foreign keys
    engine = create_engine(seeded_ro, future=True, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "version_table": VERSION_TABLE,
                "include_name": lambda name, kind, _: not (kind == "table" and name.startswith("sqlite_"))})
            assert compare_metadata(context, metadata) == []
            assert {fk["referred_table"] for fk in inspect(connection).get_foreign_keys("payments")} == {
                "customers", "invoices"}
    finally:
        engine.dispose()


def test_bulk_load_rejects_orphan_rows(db: str) -> None:
    rows = [(999_999, 1, 999_999, "card", "x", 100, "2025-01-01 00:00:00.000000", "orphan-1",
             "2025-01-01 00:00:00.000000")]
    engine = get_engine(db, write=True)
    with pytest.raises(IntegrityError):
        with engine.connect() as connection, connection.begin():
            with foreign_keys_checked_once(connection, ["payments"]):
                BulkWriter(connection).write("payments", COLUMNS["payments"], rows)
    assert count(db, Payment, Payment.external_reference == "orphan-1") == 0
