"""Tests for bot.nlu.entities (rule-based spaCy billing entity extraction)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.nlu.entities import Entity, extract, parse_amount

# Saturday 10 October 2026
TODAY = date(2026, 10, 10)


def ents(text, today=TODAY):
    return [(e.entity, e.value) for e in extract(text, today=today)]


def only(text, entity, today=TODAY):
    """The single entity found in ``text``; asserts its type and offsets."""
    found = extract(text, today=today)
    assert len(found) == 1, found
    assert found[0].entity == entity, found
    assert text[found[0].start : found[0].end] == found[0].text
    return found[0].value


def usd(amount):
    return {"amount": amount, "currency": "USD"}


# --------------------------------------------------------------------------
# invoice / account numbers
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "INV-0142",
        "INV0142",
        "inv 142",
        "invoice 142",
        "invoice number 0142",
        "invoice #142",
        "invoice no. 142",
        "Invoice No 142",
        "the invoice number is 142",
        "inv-142",
        "INV#142",
        "invoice: 142",
    ],
)
def test_invoice_number_forms(text):
    assert only(f"There's a problem with {text}, please check", "invoice_number") == "INV-0142"


def test_long_generated_invoice_numbers_are_kept():
    assert only("INV-1000123 is wrong", "invoice_number") == "INV-1000123"
    assert only("invoice 1000123", "invoice_number") == "INV-1000123"


def test_invoice_span_offsets_cover_the_identifier():
    text = "invoice number 0142 is wrong"
    (e,) = extract(text, TODAY)
    assert (e.start, e.end, e.text) == (15, 19, "0142")
    text = "see INV0142"
    (e,) = extract(text, TODAY)
    assert (e.start, e.end) == (4, 11)


def test_invoice_list():
    assert ents("invoices 142, 143 and #150") == [
        ("invoice_number", "INV-0142"),
        ("invoice_number", "INV-0143"),
        ("invoice_number", "INV-0150"),
    ]
    assert ents("invoice 142 and 2 others") == [("invoice_number", "INV-0142")]


@pytest.mark.parametrize(
    "text",
    ["ACC-1001", "acc1001", "account 1001", "account number 1001", "acct #1001", "Acct. 1001"],
)
def test_account_number_forms(text):
    assert only(f"my account: {text}", "account_number") == "ACC-1001"


@pytest.mark.parametrize(
    "text",
    [
        "I have 2 questions",
        "my invoice is 3 days late",
        "the invoice was 2 weeks overdue",
        "I paid 142 invoices",
        "hello there",
        "",
    ],
)
def test_no_entities(text):
    assert extract(text, TODAY) == []


def test_bare_number_is_not_an_invoice_without_cue():
    assert ents("it's 142") == []


# --------------------------------------------------------------------------
# amounts
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("$1,240.00", usd("1240.00")),
        ("1240 dollars", usd("1240.00")),
        ("49 bucks", usd("49.00")),
        ("$49", usd("49.00")),
        ("$98", usd("98.00")),
        ("49.00 USD", usd("49.00")),
        ("49.00USD", usd("49.00")),
        ("USD 49", usd("49.00")),
        ("US$49", usd("49.00")),
        ("$ 49.99", usd("49.99")),
        ("€20", {"amount": "20.00", "currency": "EUR"}),
        ("20 euros", {"amount": "20.00", "currency": "EUR"}),
        ("£15.50", {"amount": "15.50", "currency": "GBP"}),
        ("twenty dollars", usd("20.00")),
        ("twenty-five bucks", usd("25.00")),
        ("two hundred and fifty dollars", usd("250.00")),
        ("49 dollars and 99 cents", usd("49.99")),
        ("1,240", usd("1240.00")),
    ],
)
def test_amount_forms(text, value):
    assert only(f"I was charged {text} yesterday!"[: -len(" yesterday!")], "amount") == value


def test_amount_span_includes_currency():
    text = "they took $1,240.00 from me"
    (e,) = extract(text, TODAY)
    assert (e.entity, e.text, e.start, e.end) == ("amount", "$1,240.00", 10, 19)


def test_currencyless_formatted_amount_has_lower_confidence():
    (e,) = extract("I was billed 1,240", TODAY)
    assert e.value == usd("1240.00") and e.confidence < 1.0


def test_default_currency_is_configurable():
    from bot.nlu.entities import get_nlp

    nlp = get_nlp("CAD")
    (e,) = extract("$20", TODAY, nlp=nlp)
    assert e.value == {"amount": "20.00", "currency": "CAD"}


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"amount": "1240.00", "currency": "USD"}, Decimal("1240.00")),
        ("1240.00", Decimal("1240.00")),
        ("$1,240.00", Decimal("1240.00")),
        ("49 USD", Decimal("49")),
        ("-$20", Decimal("-20")),
        (Decimal("3.5"), Decimal("3.5")),
        (12, Decimal("12")),
    ],
)
def test_parse_amount(value, expected):
    assert parse_amount(value) == expected


def test_parse_amount_rejects_garbage():
    with pytest.raises(ValueError):
        parse_amount("no money here")


def test_amount_value_round_trips_through_parse_amount():
    (e,) = extract("$1,240.00", TODAY)
    assert parse_amount(e.value) == Decimal("1240.00")


# --------------------------------------------------------------------------
# dates (TODAY = Saturday 2026-10-10)
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [
        ("Oct 3", "2026-10-03"),
        ("October 3rd", "2026-10-03"),
        ("3 Oct", "2026-10-03"),
        ("3rd of October", "2026-10-03"),
        ("Oct. 3, 2025", "2025-10-03"),
        ("10/03", "2026-10-03"),
        ("10/03/2026", "2026-10-03"),
        ("10/3/26", "2026-10-03"),
        ("2026-10-03", "2026-10-03"),
        ("today", "2026-10-10"),
        ("yesterday", "2026-10-09"),
        ("last Tuesday", "2026-10-06"),
        ("last Saturday", "2026-10-03"),  # strictly before today
        ("Tuesday", "2026-10-06"),
        ("next Friday", "2026-10-16"),
        ("the 3rd", "2026-10-03"),
        ("the 21st", "2026-09-21"),  # not in the future -> last month
        ("the 31st", "2026-08-31"),  # September has no 31st
        ("the 3rd of last month", "2026-09-03"),
        ("last month", "2026-09"),
        ("this month", "2026-10"),
        ("in September", "2026-09"),
        ("in November", "2025-11"),  # most recent November not in the future
        ("October 2026", "2026-10"),
        ("3 days ago", "2026-10-07"),
        ("a week ago", "2026-10-03"),
    ],
)
def test_date_forms(text, value):
    assert only(f"I was charged {text}", "date") == value


def test_month_day_in_the_future_resolves_to_last_year():
    assert only("Oct 3", "date", today=date(2026, 10, 1)) == "2025-10-03"
    assert only("next Oct 3", "date", today=date(2026, 10, 10)) == "2027-10-03"


def test_last_weekday_on_that_weekday_is_a_week_ago():
    # 2026-10-06 is a Tuesday
    assert only("last Tuesday", "date", today=date(2026, 10, 6)) == "2026-09-29"


def test_today_defaults_to_date_today():
    (e,) = extract("today")
    assert e.value == date.today().isoformat()


@pytest.mark.parametrize(
    "text", ["Feb 30", "the 2nd charge", "24/7 support", "this may be wrong", "I sat down"]
)
def test_not_dates(text):
    assert [e for e in extract(text, TODAY) if e.entity == "date"] == []


# --------------------------------------------------------------------------
# email / phone / postal code
# --------------------------------------------------------------------------
def test_email_is_lowercased():
    text = "mail John.Doe+bills@Example.COM!"
    (e,) = extract(text, TODAY)
    assert (e.entity, e.value, e.text) == ("email", "john.doe+bills@example.com", "John.Doe+bills@Example.COM")


@pytest.mark.parametrize(
    "text",
    [
        "(415) 555-0101",
        "(415)555-0101",
        "415-555-0101",
        "415.555.0101",
        "415 555 0101",
        "+1 415 555 0101",
        "+1-415-555-0101",
        "1-415-555-0101",
        "4155550101",
        "+14155550101",
    ],
)
def test_phone_forms(text):
    assert only(f"call me at {text}.", "phone") == "+14155550101"


def test_international_phone():
    assert only("+44 20 7946 0958", "phone") == "+442079460958"


def test_invalid_nanp_number_is_not_a_phone():
    assert ents("123-456-7890") == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("zip 94110", "94110"),
        ("my zip code is 94110", "94110"),
        ("my postcode is 02134", "02134"),
        ("postal code: 94110-1234", "94110-1234"),
        ("94110-1234", "94110-1234"),
        ("94110", "94110"),
        ("it's 94110", "94110"),
        ("Sure, 94110 thanks", "94110"),
    ],
)
def test_postal_code_forms(text, value):
    assert only(text, "postal_code") == value


def test_bare_zip_answer_has_lower_confidence():
    (e,) = extract("94110", TODAY)
    assert e.confidence < 1.0


def test_zip_is_not_an_amount():
    assert ents("my zip is 94110") == [("postal_code", "94110")]
    assert ents("94110") == [("postal_code", "94110")]


def test_phone_is_not_a_postal_code():
    for text in ["4155550101", "415-555-0101", "call 415 555 0101"]:
        assert [e.entity for e in extract(text, TODAY)] == ["phone"]


def test_five_digit_number_in_a_sentence_is_not_a_zip():
    assert ents("I ordered 12345 widgets") == []
    assert ents("#12345") == []


def test_cue_beats_shape():
    assert ents("invoice 4155550101") == [("invoice_number", "INV-4155550101")]
    assert ents("invoice 94110") == [("invoice_number", "INV-94110")]
    assert ents("$94110") == [("amount", usd("94110.00"))]


# --------------------------------------------------------------------------
# a full message
# --------------------------------------------------------------------------
def test_full_message_offsets_and_values():
    text = (
        "I was charged $49 on Oct 3 for invoice INV0142 on account 1001; "
        "zip 94110, call (415) 555-0101 or mail Me@Example.com"
    )
    found = extract(text, TODAY)
    assert [(e.entity, e.value) for e in found] == [
        ("amount", usd("49.00")),
        ("date", "2026-10-03"),
        ("invoice_number", "INV-0142"),
        ("account_number", "ACC-1001"),
        ("postal_code", "94110"),
        ("phone", "+14155550101"),
        ("email", "me@example.com"),
    ]
    for e in found:
        assert isinstance(e, Entity)
        assert text[e.start : e.end] == e.text
