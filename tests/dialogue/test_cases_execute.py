"""Executing the chosen offer exactly once, the written summary, the dispute history, follow-up."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.billing import lookup
from bot.billing.dates import human_date
from bot.billing.errors import InvalidRequest
from bot.billing.interactions import conversation_log
from bot.dialogue import cases
from bot.dialogue.cases import DecisionKind, Intent, Offer
from bot.dialogue.cases.followup import NOTHING_OPEN
from tests.dialogue.conftest import SEED_DAY

REF = r"REF-[A-Z0-9]{8}"


def offer_for(db: str, account: str, intent: str, offer_id: str) -> Offer:
    decision = cases.handle(account, intent, database_url=db)
    offer = cases.find_offer(decision.offers, offer_id)
    assert offer is not None, [o.id for o in decision.offers]
    return offer


def test_maria_refund_twice_changes_money_once(db: str) -> None:
    offer = offer_for(db, "ACC-1001", Intent.CHARGED_TWICE, "refund:INV-0142")
    first = cases.execute(offer, conversation_id="conv-maria", database_url=db)
    again = cases.execute(Offer.from_dict(offer.to_dict()), conversation_id="conv-maria", database_url=db)
    assert first.ok and again.ok and not first.replayed and again.replayed
    assert first.reference == again.reference and re.fullmatch(REF, first.reference)
    refunds = [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].amount == Decimal("49.00") and refunds[0].reference == first.reference
    assert refunds[0].method_detail == "Visa ending 4242"
    goodwill = [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.is_goodwill]
    assert len(goodwill) == 1 and goodwill[0].amount == Decimal("5.00")
    assert first.goodwill_reference == again.goodwill_reference == goodwill[0].reference
    assert first.summary == (f"Done. I've issued a refund of $49.00 to your Visa ending 4242 for the duplicate "
                             f"Standard charge on INV-0142, and added a $5.00 thank-you credit to your next bill. Your reference is "
                             f"{first.reference}.")
    expected = human_date(SEED_DAY + timedelta(days=7))
    assert first.next_step == (f"The refund should reach your Visa ending 4242 by {expected}. "
                               f"You can ask me about {first.reference} any time.")
    assert again.summary.startswith("That's already done, so nothing has changed: on ")
    assert "I issued a refund of $49.00 to your Visa ending 4242" in again.summary and first.reference in again.summary
    (dispute,) = lookup.list_disputes("ACC-1001", database_url=db)
    assert dispute.reference == first.dispute_reference == again.dispute_reference
    assert (dispute.status, dispute.outcome, dispute.resolved_amount, dispute.reason_code) == (
        "resolved", "upheld", Decimal("49.00"), "duplicate_line")
    assert refunds[0].dispute_reference == dispute.reference
    log = conversation_log("conv-maria", database_url=db)
    assert [(row.actor, row.account_number) for row in log] == [("bot", "ACC-1001")] * 2
    assert log[0].text == first.text and log[1].text == again.text and first.interaction_id == log[0].id


def test_after_the_refund_the_case_says_it_is_already_put_right(db: str) -> None:
    refund = offer_for(db, "ACC-1001", Intent.CHARGED_TWICE, "refund:INV-0142")
    credit = offer_for(db, "ACC-1001", Intent.CHARGED_TWICE, "credit:INV-0142")
    done = cases.execute(refund, conversation_id="c1", database_url=db)
    other = cases.execute(credit, conversation_id="c2", database_url=db)  # another conversation, other option
    assert not other.ok and other.reference is None and other.handoff_reason is None
    assert other.summary.startswith("This has already been put right, so I haven't changed anything again.")
    assert done.reference in other.summary
    assert len([c for c in lookup.list_corrections("ACC-1001", database_url=db) if not c.is_goodwill]) == 1
    later = cases.handle("ACC-1001", Intent.CHARGED_TWICE, database_url=db)
    assert later.kind == DecisionKind.ALREADY_CORRECTED and later.offers == () and later.apology
    assert done.reference in later.text


def test_refund_status(db: str) -> None:
    assert cases.refund_status("ACC-1001", database_url=db) == NOTHING_OPEN == \
        "You have no open refunds or credits right now."
    result = cases.execute(offer_for(db, "ACC-1001", Intent.CHARGED_TWICE, "refund:INV-0142"),
                           conversation_id="c-status", database_url=db)
    status = cases.refund_status("ACC-1001", database_url=db)
    expected = human_date(SEED_DAY + timedelta(days=7))
    assert (f"The refund of $49.00 to your Visa ending 4242 ({result.reference}, for INV-0142) is on its way and "
            f"should arrive by {expected}.") in status
    assert f"A $5.00 thank-you credit ({result.goodwill_reference}) will come off your next bill." in status


def test_james_fee_reversal(db: str) -> None:
    result = cases.execute(offer_for(db, "ACC-1002", Intent.DISPUTE_CHARGE, "fee_reversal:INV-0207"),
                           conversation_id="c-james", database_url=db)
    assert result.ok
    assert result.summary == f"Done. I've removed the $25.00 late fee from INV-0207. Your reference is {result.reference}."
    assert result.next_step.startswith("There's nothing more to pay on INV-0207.")
    assert lookup.get_balance("ACC-1002", database_url=db).total_owed == Decimal("0.00")
    assert lookup.list_disputes("ACC-1002", database_url=db)[0].outcome == "upheld"


def test_aisha_refund(db: str) -> None:
    result = cases.execute(offer_for(db, "ACC-1005", Intent.REQUEST_REFUND, "refund:INV-0501"),
                           conversation_id="c-aisha", database_url=db)
    assert result.ok and result.goodwill_reference is None
    (refund,) = lookup.list_corrections("ACC-1005", database_url=db)
    assert (refund.amount, refund.method_detail) == (Decimal("79.00"), "Mastercard ending 5454")


def test_priya_three_month_plan(db: str) -> None:
    case = cases.find_case("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=db)
    answer = cases.plan_for_months(case, 3)
    result = cases.execute(answer.offer, conversation_id="c-priya", database_url=db)
    replay = cases.execute(answer.offer, conversation_id="c-priya", database_url=db)
    assert result.ok and replay.replayed and replay.reference == result.reference
    (plan,) = lookup.list_payment_plans("ACC-1003", database_url=db)
    assert plan.reference == result.reference and plan.total_amount == Decimal("1240.00")
    agreed = [(i.due_date, i.amount) for i in answer.offer.installments]
    assert [(i.due_date, i.amount) for i in plan.installments] == agreed
    assert sum(i.amount for i in plan.installments) == Decimal("1240.00")
    assert plan.invoice_numbers == ("INV-0311", "INV-0388")
    first_due = agreed[0][0]
    assert result.next_step == (f"Your first payment of $413.33 is due {human_date(first_due)}. "
                                f"You can ask me about {result.reference} any time.")
    assert result.summary.startswith("Done. I've set up a payment plan for $1,240.00 (INV-0311 and INV-0388): ")
    other = cases.execute(cases.plan_for_months(case, 2).offer, conversation_id="c-priya-2", database_url=db)
    assert not other.ok and "already have a payment plan" in other.summary
    assert len(lookup.list_payment_plans("ACC-1003", database_url=db)) == 1
    assert cases.handle("ACC-1003", Intent.REQUEST_PAYMENT_PLAN, database_url=db).offers == ()


def test_liam_review_changes_no_money(db: str) -> None:
    result = cases.execute(offer_for(db, "ACC-1006", Intent.DISPUTE_CHARGE, "review:INV-0610"),
                           conversation_id="c-liam", database_url=db)
    assert result.ok and result.reference is None and result.handoff_reason == "customer_request"
    assert lookup.list_corrections("ACC-1006", database_url=db) == []
    (dispute,) = lookup.list_disputes("ACC-1006", database_url=db)
    assert dispute.status == "open" and dispute.reference == result.dispute_reference
    assert lookup.get_invoice("INV-0610", database_url=db).balance_due == Decimal("0.00")


def test_tom_changes_no_money(db: str) -> None:
    before = lookup.get_balance("ACC-1004", database_url=db)
    decision = cases.handle("ACC-1004", Intent.DISPUTE_CHARGE, database_url=db)
    assert decision.handoff_reason == "authority" and decision.offers == ()
    ref = cases.open_review(decision, conversation_id="c-tom", database_url=db)
    assert ref == cases.open_review(decision, conversation_id="c-tom", database_url=db)  # idempotent
    (dispute,) = lookup.list_disputes("ACC-1004", database_url=db)
    assert (dispute.reference, dispute.disputed_amount, dispute.status) == (ref, Decimal("2500.00"), "open")
    assert lookup.list_corrections("ACC-1004", database_url=db) == []
    assert lookup.get_balance("ACC-1004", database_url=db) == before


def test_offer_for_another_account_is_refused(db: str) -> None:
    offer = offer_for(db, "ACC-1001", Intent.CHARGED_TWICE, "refund:INV-0142")
    forged = Offer.from_dict({**offer.to_dict(), "account_number": "ACC-1006"})
    with pytest.raises(InvalidRequest):
        cases.execute(forged, conversation_id="c-forged", database_url=db)
    assert lookup.list_corrections("ACC-1001", database_url=db) == []


def test_idempotency_keys_are_deterministic_and_short() -> None:
    assert cases.idempotency_key("conv-1", "refund:INV-0142") == "case:conv-1:refund:INV-0142"
    long_key = cases.idempotency_key("x" * 500, "refund:INV-0142", "goodwill")
    assert len(long_key) <= 200 and long_key == cases.idempotency_key("x" * 500, "refund:INV-0142", "goodwill")
