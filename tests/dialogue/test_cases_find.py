"""Finding the case: which invoice(s) a verified customer means."""
from __future__ import annotations

from decimal import Decimal

from bot.dialogue import cases
from bot.dialogue.cases import DecisionKind, Intent
from tests.dialogue.conftest import month


def test_dispute_picks_the_invoice_with_the_error(ro_db: str) -> None:
    expected = {"ACC-1001": "INV-0142", "ACC-1002": "INV-0207", "ACC-1004": "INV-0455",
                "ACC-1005": "INV-0501", "ACC-1006": "INV-0610"}
    for account, number in expected.items():
        case = cases.find_case(account, Intent.DISPUTE_CHARGE, database_url=ro_db)
        assert case.invoice.number == number, account


def test_charged_twice_finds_the_duplicate_and_what_is_left_to_correct(ro_db: str) -> None:
    case = cases.find_case("acc 1001", Intent.CHARGED_TWICE, database_url=ro_db)
    assert case.account_number == "ACC-1001" and case.invoice.number == "INV-0142"
    assert [f.kind for f in case.findings] == ["duplicate_line"]
    assert case.remaining == {"duplicate_line": Decimal("49.00")}
    assert case.our_fault


def test_named_invoice_in_any_form(ro_db: str) -> None:
    case = cases.find_case("ACC-1001", Intent.ASK_INVOICE, invoice_number="inv 140", database_url=ro_db)
    assert case.invoice.number == "INV-0140" and not case.findings and case.clean == ("INV-0140",)


def test_another_customers_invoice_is_not_found_and_not_revealed(ro_db: str) -> None:
    other = cases.handle("ACC-1006", Intent.DISPUTE_CHARGE, invoice_number="INV-0142", database_url=ro_db)
    missing = cases.handle("ACC-1006", Intent.DISPUTE_CHARGE, invoice_number="INV-9999", database_url=ro_db)
    assert other.kind == missing.kind == DecisionKind.NOT_FOUND
    assert other.case.invoices == () and other.offers == () and other.case.findings == ()
    assert other.text == missing.text.replace("INV-9999", "INV-0142")
    assert other.text == ("I couldn't find invoice INV-0142 on your account. Could you check the number? "
                          "It's at the top of the bill and starts with INV.")
    for secret in ("Maria", "Lopez", "ACC-1001", "$98.00", "$49.00", "Standard"):
        assert secret not in other.text


def test_amount_and_date_entities_narrow_the_choice(ro_db: str) -> None:
    case = cases.find_case("ACC-1004", Intent.DISPUTE_CHARGE, amount={"amount": "2500.00", "currency": "USD"},
                           database_url=ro_db)
    assert case.invoice.number == "INV-0455" and case.disputed_amount == Decimal("2500.00")
    older = month(-3)
    case = cases.find_case("ACC-1001", Intent.ASK_INVOICE, date=f"{older:%Y-%m}", database_url=ro_db)
    assert case.invoice.number == "INV-0140"
    case = cases.find_case("ACC-1001", Intent.ASK_INVOICE, date=older.isoformat(), database_url=ro_db)
    assert case.invoice.number == "INV-0140"


def test_amount_entity_parsing() -> None:
    assert cases.parse_amount({"amount": "49.00", "currency": "USD"}) == Decimal("49.00")
    assert cases.parse_amount("$1,240.00") == Decimal("1240.00")
    assert cases.parse_amount({"amount": "20.00", "currency": "EUR"}) is None
    assert cases.parse_amount({"amount": "-20.00", "currency": "USD"}) is None
    assert cases.parse_amount("lots") is None and cases.parse_amount(None) is None


def test_balance_intents_take_the_open_balance(ro_db: str) -> None:
    case = cases.find_case("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=ro_db)
    assert [inv.number for inv in case.invoices] == ["INV-0311", "INV-0388"]
    assert case.balance.total_owed == Decimal("1240.00")
    assert case.clean == ("INV-0311", "INV-0388") and not case.findings
    paid_up = cases.find_case("ACC-1006", Intent.ASK_BALANCE, database_url=ro_db)
    assert paid_up.invoices == () and paid_up.balance.total_owed == Decimal("0.00")
