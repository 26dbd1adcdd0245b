"""What the assistant says and offers for each demo account (read-only)."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.billing import lookup
from bot.billing.dates import human_date
from bot.billing.seed.demo import aisha_cancelled_at
from bot.dialogue import cases
from bot.dialogue.cases import DecisionKind, Intent, Offer, OfferKind
from tests.dialogue.conftest import SEED_DAY, due, month

ALL = [("ACC-1001", Intent.CHARGED_TWICE), ("ACC-1002", Intent.DISPUTE_CHARGE),
       ("ACC-1003", Intent.REQUEST_PAYMENT_PLAN), ("ACC-1004", Intent.DISPUTE_CHARGE),
       ("ACC-1005", Intent.REQUEST_REFUND), ("ACC-1006", Intent.DISPUTE_CHARGE)]


def short(day) -> str:
    return f"{day:%b} {day.day}"


def test_maria_duplicate_charge(ro_db: str) -> None:
    d = cases.handle("ACC-1001", Intent.CHARGED_TWICE, database_url=ro_db)
    assert d.kind == DecisionKind.CORRECTION and d.apology and d.handoff_reason is None
    assert d.messages[0] == ("INV-0142 charged the Standard plan twice: $98.00 instead of $49.00. "
                             "That's our mistake, and I'm sorry.")
    assert d.recognition == "You've been with us since 2017 and have always paid on time, thank you."
    assert d.recognition in d.messages
    assert [(o.id, o.kind, o.title, o.amount) for o in d.offers] == [
        ("refund:INV-0142", OfferKind.REFUND, "Refund $49.00 to my card", Decimal("49.00")),
        ("credit:INV-0142", OfferKind.CREDIT_NOTE, "Credit $49.00 on my next bill", Decimal("49.00"))]
    refund, credit = d.offers
    assert refund.operation == "refund" and credit.operation == "issue_credit_note"
    assert refund.params == {"invoice_number": "INV-0142", "amount": "49.00",
                             "reason": "INV-0142 charged the Standard plan twice: $98.00 instead of $49.00."}
    assert refund.method_detail == "Visa ending 4242" and refund.goodwill_amount == Decimal("5.00")
    assert "refund $49.00 to your Visa ending 4242 or take $49.00 off your next bill" in d.messages[-1]
    assert cases.confirmation(refund) == (
        "To confirm: I'll refund $49.00 to your Visa ending 4242 for the duplicate Standard charge on INV-0142, "
        "and add a $5.00 thank-you credit to your next bill. Shall I go ahead?")
    assert cases.confirmation(credit) == (
        "To confirm: I'll take $49.00 off your next bill for the duplicate Standard charge on INV-0142, "
        "and add a $5.00 thank-you credit to your next bill. Shall I go ahead?")


def test_james_wrong_late_fee(ro_db: str) -> None:
    d = cases.handle("ACC-1002", Intent.DISPUTE_CHARGE, database_url=ro_db)
    assert d.kind == DecisionKind.CORRECTION and d.apology
    assert d.messages[0] == (f"INV-0207 added a $25.00 late fee although the payment of $49.00 arrived on "
                             f"{human_date(due(-1))}, the due date. That's our mistake, and I'm sorry.")
    (offer,) = d.offers
    assert (offer.id, offer.title, offer.amount, offer.operation) == (
        "fee_reversal:INV-0207", "Reverse the $25.00 late fee", Decimal("25.00"), "reverse_fee")
    assert offer.goodwill_amount is None  # 3 years: below the policy's 5-year tenure
    assert cases.confirmation(offer) == ("To confirm: I'll remove the $25.00 late fee from INV-0207, so nothing "
                                         "more is owed on it. Shall I go ahead?")


def test_priya_correct_but_overdue_gets_payment_plans(ro_db: str) -> None:
    d = cases.handle("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=ro_db)
    assert d.kind == DecisionKind.PAYMENT_PLAN and not d.apology and "sorry" not in d.text.lower()
    assert d.messages[0] == (f"Priya, you owe $1,240.00: INV-0311 ($540.00, was due {human_date(due(-2))}) and "
                             f"INV-0388 ($700.00, was due {human_date(due(-1))}). Both are past due. I've checked "
                             f"both invoices and the charges are correct.")
    since = lookup.recognition_facts("ACC-1003", database_url=ro_db).customer_since.year
    assert d.recognition == f"Thank you for being with us since {since}."
    assert "on time" not in d.text
    assert [o.id for o in d.offers] == ["plan:2", "plan:4", "plan:6"]
    first = SEED_DAY + timedelta(days=7)
    for offer in d.offers:
        assert offer.kind == OfferKind.PAYMENT_PLAN and offer.amount == Decimal("1240.00")
        assert sum(i.amount for i in offer.installments) == Decimal("1240.00")
        assert offer.installments[0].due_date == first and short(first) in offer.title
        assert offer.params["installments"] == len(offer.installments)
        assert offer.title in d.text
    assert d.offers[0].title == f"2 payments of $620.00 ({short(first)}, {short(d.offers[0].installments[1].due_date)})"
    assert d.offers[2].title.startswith("6 payments of $206.66 (") and d.offers[2].title.endswith("; last one $206.70)")
    assert d.info == ("If the monthly cost is a stretch, our Basic plan is $29.00 a month, compared with $79.00 "
                      "for your Premium plan. Just ask if you'd like to know more.",)
    assert cases.confirmation(d.offers[0]) == (
        f"To confirm: I'll set up a payment plan for $1,240.00 (INV-0311 and INV-0388): $620.00 on "
        f"{human_date(first)} and $620.00 on {human_date(d.offers[0].installments[1].due_date)}. Shall I go ahead?")


def test_plan_for_a_number_of_months(ro_db: str) -> None:
    case = cases.find_case("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=ro_db)
    three = cases.plan_for_months(case, 3)
    assert three.allowed and three.offer.id == "plan:3"
    assert [i.amount for i in three.offer.installments] == [Decimal("413.33"), Decimal("413.33"), Decimal("413.34")]
    assert three.message.startswith("Yes, I can spread $1,240.00 over 3 months: $413.33 on ")
    five = cases.plan_for_months(case, 5)
    assert five.allowed and [i.amount for i in five.offer.installments] == [Decimal("248.00")] * 5
    twelve = cases.plan_for_months(case, 12)
    assert not twelve.allowed and twelve.offer.id == "plan:6"
    assert twelve.message.startswith("I can spread a balance over 2 to 6 monthly payments, each at least $50.00, "
                                     "so 12 months isn't something I can set up here. The closest I can do is 6 ")
    one = cases.plan_for_months(case, 1)
    assert not one.allowed and "1 month isn't" in one.message and one.offer.id == "plan:2"


def test_tom_disputed_equipment_is_handed_off(ro_db: str) -> None:
    d = cases.handle("ACC-1004", Intent.DISPUTE_CHARGE, database_url=ro_db)
    assert d.kind == DecisionKind.HANDOFF and d.handoff_reason == "authority"
    assert d.handoff_reason_code == "above_authority" and d.offers == () and not d.apology
    assert d.text == ('I can see INV-0455 includes $2,500.00 for "Business-grade router and on-site installation". '
                      "From the billing records alone I can't confirm whether that charge is right or wrong, and at "
                      "$2,500.00 it's more than I'm able to adjust myself. I'll pass it to a billing specialist, who "
                      "will review it properly. They'll see what we've discussed, so you won't need to repeat "
                      "yourself.")
    assert d.handoff_context["amount"] == "2500.00" and d.handoff_context["invoice_number"] == "INV-0455"
    json.dumps(d.handoff_context)
    assert "INV-0455" in d.handoff_summary and "$500.00" in d.handoff_summary


def test_aisha_charge_after_cancellation(ro_db: str) -> None:
    d = cases.handle("ACC-1005", Intent.REQUEST_REFUND, database_url=ro_db)
    cancelled = aisha_cancelled_at(SEED_DAY).date()
    assert d.messages[0] == (f"INV-0501 charged $79.00 for the Premium plan for {month(-1):%B %Y}, after the plan "
                             f"was cancelled on {human_date(cancelled)}. That's our mistake, and I'm sorry.")
    (offer,) = d.offers  # no next bill after cancelling: refund only
    assert (offer.id, offer.title, offer.amount) == ("refund:INV-0501", "Refund $79.00 to my card", Decimal("79.00"))
    assert cases.confirmation(offer) == ("To confirm: I'll refund $79.00 to your Mastercard ending 5454 for the "
                                         "Premium charge after your cancellation on INV-0501. Shall I go ahead?")


def test_liam_correct_bill_is_explained_line_by_line(ro_db: str) -> None:
    d = cases.handle("ACC-1006", Intent.DISPUTE_CHARGE, database_url=ro_db)
    assert d.kind == DecisionKind.EXPLAIN and not d.apology and "sorry" not in d.text.lower()
    period = month(-1)
    assert d.messages[0] == "\n".join([
        f"Here's INV-0610 for {period:%B %Y}, line by line:",
        f"- Basic plan - {period:%B %Y}: $29.00 (tax included)",
        "Total: $29.00. Prices include tax, so there is no separate tax charge.",
        f"It was due {human_date(due(-1))}, and your payment of $29.00 (Direct debit ending 3306) on "
        f"{human_date(month(-1).replace(day=6))} paid it in full."])
    assert "don't see a mistake on INV-0610" in d.messages[1] and "billing specialist to review it" in d.messages[1]
    assert [(o.id, o.kind, o.changes_money, o.amount) for o in d.offers] == [
        ("review:INV-0610", OfferKind.HUMAN_REVIEW, False, Decimal("0.00"))]
    assert not any(o.changes_money for o in d.offers)
    assert lookup.list_corrections("ACC-1006", database_url=ro_db) == []
    assert lookup.list_disputes("ACC-1006", database_url=ro_db) == []


def test_recognition_only_when_true(ro_db: str) -> None:
    for account, intent in ALL:
        d = cases.handle(account, intent, database_url=ro_db)
        facts = lookup.recognition_facts(account, database_url=ro_db)
        assert ("always paid on time" in d.text) == (facts.always_paid_on_time and d.recognition is not None)
    assert not lookup.recognition_facts("ACC-1003", database_url=ro_db).always_paid_on_time


def test_apology_iff_the_ledger_shows_our_mistake(ro_db: str) -> None:
    for account, intent in ALL:
        d = cases.handle(account, intent, database_url=ro_db)
        assert d.apology == (account in {"ACC-1001", "ACC-1002", "ACC-1005"}), account
        assert ("sorry" in d.text.lower()) == d.apology, account


@pytest.mark.parametrize("account,intent", ALL)
def test_texts_are_plain_sms_safe(ro_db: str, account: str, intent: str) -> None:
    d = cases.handle(account, intent, database_url=ro_db)
    texts = list(d.messages) + [o.title for o in d.offers] + [cases.confirmation(o) for o in d.offers]
    for text in texts:
        assert text.isascii(), text
        assert not re.search(r"\*\*|__|^#|\[.*\]\(", text, re.M), text
        assert "Decimal" not in text and "None" not in text


@pytest.mark.parametrize("account,intent", ALL)
def test_offers_round_trip_through_json(ro_db: str, account: str, intent: str) -> None:
    d = cases.handle(account, intent, database_url=ro_db)
    ids = [o.id for o in d.offers]
    assert len(ids) == len(set(ids))
    for offer in d.offers:
        again = Offer.from_dict(json.loads(json.dumps(offer.to_dict())))
        assert again == offer
        assert cases.find_offer(d.offers, offer.id) is offer
    assert cases.find_offer(d.offers, "refund:INV-9999") is None


def test_balance_wording(ro_db: str) -> None:
    james = cases.handle("ACC-1002", Intent.ASK_BALANCE, database_url=ro_db)
    assert james.messages[0] == (f"James, you owe $25.00: INV-0207 ($25.00, was due {human_date(due(-1))}). "
                                 f"It's past due.")
    assert james.kind == DecisionKind.CORRECTION and james.offers[0].id == "fee_reversal:INV-0207"
    liam = cases.handle("ACC-1006", Intent.ASK_BALANCE, database_url=ro_db)
    assert liam.text == "Liam, you're all paid up: nothing is owed on ACC-1006." and liam.offers == ()
    priya = cases.handle("ACC-1003", Intent.MAKE_PAYMENT, database_url=ro_db)
    assert "1-800-555-0142" in priya.text and [o.id for o in priya.offers] == ["plan:2", "plan:4", "plan:6"]


def test_partly_unknown_invoice_numbers(ro_db: str) -> None:
    d = cases.handle("ACC-1001", Intent.DISPUTE_CHARGE, invoice_number=["INV-0610", "INV-0142"], database_url=ro_db)
    assert d.kind == DecisionKind.CORRECTION and d.case.invoice.number == "INV-0142"
    assert d.messages[0] == "I couldn't find invoice INV-0610 on your account. I've looked at INV-0142 instead."


def test_policy_decides_plans_and_goodwill(ro_db: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from bot.billing.policy import DEFAULT_POLICY_FILE

    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    data["payment_plans"]["max_balance"] = "1000.00"
    data["goodwill"]["enabled"] = False
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("BILLING_POLICY_FILE", str(path))
    priya = cases.handle("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=ro_db)
    assert priya.kind == DecisionKind.HANDOFF and priya.handoff_reason == "policy" and priya.offers == ()
    assert priya.handoff_reason_code == "policy_exception"
    assert "more than I can put on a plan here (up to $1,000.00)" in priya.text
    maria = cases.handle("ACC-1001", Intent.CHARGED_TWICE, database_url=ro_db)
    assert all(o.goodwill_amount is None for o in maria.offers) and "thank-you" not in maria.text
