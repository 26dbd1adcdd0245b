"""Lookups and identifier normalisation."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bot.billing.dates import add_months, month_start
from bot.billing.identifiers import (
    normalise_account_number,
    normalise_email,
    normalise_invoice_number,
    normalise_phone,
    normalise_postal_code,
)
from bot.billing.lookup import (
    find_customers_by_phone,
    get_balance,
    get_customer_by_account,
    get_customer_by_email,
    get_customer_by_phone,
    get_invoice,
    list_corrections,
    list_invoices,
    recognition_facts,
    verify,
)
from tests.billing.support import SEED_DAY, assert_no_floats

D = Decimal


@pytest.mark.parametrize("text,expected", [
    ("INV-0142", "INV-0142"), ("inv 142", "INV-0142"), ("INV0142", "INV-0142"), ("0142", "INV-0142"),
    ("142", "INV-0142"), ("invoice #142", "INV-0142"), ("Invoice no. 0142", "INV-0142"), (" inv-142 ", "INV-0142"),
    ("INV-1000123", "INV-1000123"), ("inv", None), ("hello", None), ("", None), (None, None), ("ACC-1001", None),
])
def test_normalise_invoice_number(text, expected) -> None:
    assert normalise_invoice_number(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("ACC-1001", "ACC-1001"), ("acc 1001", "ACC-1001"), ("ACC1001", "ACC-1001"), ("account 1001", "ACC-1001"),
    ("1001", "ACC-1001"), ("acct #2005", "ACC-2005"), ("INV-0142", None), ("x", None),
])
def test_normalise_account_number(text, expected) -> None:
    assert normalise_account_number(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("+14155550101", "+14155550101"), ("(415) 555-0101", "+14155550101"), ("415.555.0101", "+14155550101"),
    ("1 415 555 0101", "+14155550101"), ("+1 415 555 0101", "+14155550101"), ("0014155550101", "+14155550101"),
    ("555-0101", None), ("phone", None), ("+0123", None),
])
def test_normalise_phone(text, expected) -> None:
    assert normalise_phone(text) == expected


def test_normalise_email_and_postal_code() -> None:
    assert normalise_email("  Maria.Lopez@Example.COM ") == "maria.lopez@example.com"
    assert normalise_email("not-an-email") is None
    assert normalise_postal_code(" 94110-1234 ") == "94110" and normalise_postal_code("sw1a 1aa") == "SW1A 1AA"


@pytest.mark.parametrize("form", ["INV-0142", "inv 142", "INV0142", "0142"])
def test_invoice_by_number(seeded_ro: str, form: str) -> None:
    inv = get_invoice(form, database_url=seeded_ro, today=SEED_DAY)
    assert (inv.number, inv.account_number, inv.customer_name, inv.total) == (
        "INV-0142", "ACC-1001", "Maria Lopez", D("98.00"))
    assert assert_no_floats(inv) >= 8


def test_unknown_things_return_none(seeded_ro: str) -> None:
    assert get_invoice("INV-9999", database_url=seeded_ro) is None
    assert get_invoice("nonsense", database_url=seeded_ro) is None
    assert get_customer_by_account("ACC-9999", database_url=seeded_ro) is None
    assert get_customer_by_email("nobody@example.com", database_url=seeded_ro) is None
    assert get_customer_by_phone("+14155550199", database_url=seeded_ro) is None
    assert get_balance("ACC-9999", database_url=seeded_ro) is None
    assert recognition_facts("ACC-9999", database_url=seeded_ro) is None
    assert list_invoices("ACC-9999", database_url=seeded_ro) == []


def test_customer_by_account_email_phone(seeded_ro: str) -> None:
    by_account = get_customer_by_account("acc 1005", database_url=seeded_ro)
    assert by_account.name == "Aisha Bello"
    assert get_customer_by_email("AISHA.BELLO@example.com", database_url=seeded_ro) == by_account
    assert get_customer_by_phone("(206) 555-0105", database_url=seeded_ro) == by_account
    assert find_customers_by_phone("+12065550105", database_url=seeded_ro) == [by_account]
    generated = get_customer_by_account("ACC-2000", database_url=seeded_ro)
    assert get_customer_by_phone(generated.phone, database_url=seeded_ro) == generated
    assert get_customer_by_email(generated.email.upper(), database_url=seeded_ro) == generated


def test_balances(seeded_ro: str) -> None:
    priya = get_balance("ACC-1003", database_url=seeded_ro, today=SEED_DAY)
    assert (priya.total_owed, priya.overdue_amount, priya.credit_available) == (D("1240.00"), D("1240.00"), D("0.00"))
    assert [(i.number, i.balance_due, i.overdue) for i in priya.invoices] == [
        ("INV-0311", D("540.00"), True), ("INV-0388", D("700.00"), True)]
    first_due = add_months(month_start(SEED_DAY), -2) + timedelta(days=14)
    assert priya.invoices[0].due_date == first_due and priya.invoices[0].days_overdue == (SEED_DAY - first_due).days
    assert get_balance("ACC-1004", database_url=seeded_ro, today=SEED_DAY).total_owed == D("2549.00")
    assert get_balance("ACC-1002", database_url=seeded_ro, today=SEED_DAY).total_owed == D("25.00")
    maria = get_balance("ACC-1001", database_url=seeded_ro, today=SEED_DAY)
    assert (maria.total_owed, maria.invoices) == (D("0.00"), ())
    assert assert_no_floats(priya) > 0
    # before the due date an open invoice is owed but not overdue
    early = get_balance("ACC-1003", database_url=seeded_ro, today=first_due - timedelta(days=1))
    assert early.invoices[0].overdue is False and early.next_due_date == first_due


def test_recognition_facts(seeded_ro: str) -> None:
    maria = recognition_facts("ACC-1001", database_url=seeded_ro, today=SEED_DAY)
    assert maria.always_paid_on_time and maria.on_time_ratio == D("1.0000") and maria.invoices_due == 6
    assert maria.tenure_years >= 8 and maria.customer_since.year == 2017 and maria.plan_name == "Standard"
    priya = recognition_facts("ACC-1003", database_url=seeded_ro, today=SEED_DAY)
    assert (priya.invoices_due, priya.paid_on_time, priya.always_paid_on_time) == (7, 5, False)
    assert priya.on_time_ratio == D("0.7143") and type(priya.on_time_ratio) is Decimal
    james = recognition_facts("ACC-1002", database_url=seeded_ro, today=SEED_DAY)
    assert james.always_paid_on_time  # the late fee was wrong: he paid on the due date
    assert recognition_facts("ACC-1005", database_url=seeded_ro, today=SEED_DAY).plan_name is None  # cancelled


@pytest.mark.parametrize("identifier,factor,account", [
    ("ACC-1001", "maria.lopez@example.com", "ACC-1001"),
    ("acc 1001", "MARIA.LOPEZ@EXAMPLE.COM", "ACC-1001"),
    ("ACC-1001", "94110", "ACC-1001"),
    ("INV-0142", "94110-0001", "ACC-1001"),
    ("inv 207", "james.carter@example.com", "ACC-1002"),
    ("0311", "60614", "ACC-1003"),
    ("1006", "02134", "ACC-1006"),
    ("ACC-1001", "james.carter@example.com", None),
    ("ACC-1001", "94111", None),
    ("INV-0142", "10001", None),
    ("ACC-9999", "94110", None),
    ("ACC-1001", "", None),
])
def test_verify(seeded_ro: str, identifier: str, factor: str, account) -> None:
    found = verify(identifier, factor, database_url=seeded_ro)
    assert (found.account_number if found else None) == account


def test_list_invoices_newest_first(seeded_ro: str) -> None:
    invoices = list_invoices("ACC-1003", limit=3, database_url=seeded_ro, today=SEED_DAY)
    assert [i.number for i in invoices] == ["INV-0388", "INV-0311", "INV-0310"]


def test_no_corrections_in_seed(seeded_ro: str) -> None:
    assert list_corrections("ACC-1001", database_url=seeded_ro) == []
