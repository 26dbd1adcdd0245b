"""Dispute conversations through the real servers (REST channel), checked against the ledger."""
from __future__ import annotations

import uuid
from decimal import Decimal
from typing import List

import pytest

from bot.billing import lookup
from bot.billing.handoffs import list_handoffs
from tests.servers import Stack

pytestmark = pytest.mark.servers


def sender(name: str) -> str:
    return f"{name}-" + uuid.uuid4().hex[:8]


def talk(stack: Stack, me: str, *messages: str) -> List[dict]:
    replies: List[dict] = []
    for message in messages:
        replies = stack.say(me, message)
    return replies


def joined(replies: List[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def test_maria_refund_happens_once_even_after_a_second_yes(fresh_ledger: Stack) -> None:
    stack = fresh_ledger
    me = sender("maria")
    offers = talk(stack, me, "I was charged twice this month", "INV-0142", "maria.lopez@example.com")
    assert "That's our mistake, and I'm sorry." in joined(offers)
    payloads = [b["payload"] for r in offers for b in r.get("buttons", [])]
    assert '/inform{"offer_id": "refund:INV-0142"}' in payloads
    confirm = talk(stack, me, '/inform{"offer_id": "refund:INV-0142"}')
    assert joined(confirm).startswith("To confirm: I'll refund $49.00")
    assert not [c for c in lookup.list_corrections("ACC-1001", database_url=stack.database_url) if c.kind == "refund"]
    done = joined(talk(stack, me, "yes"))
    assert "Done. I've issued a refund of $49.00" in done and "REF-" in done and "1 (poor) to 5" in done
    again = joined(talk(stack, me, "yes"))
    assert "already done, so nothing has changed" in again
    refunds = [c for c in lookup.list_corrections("ACC-1001", database_url=stack.database_url)
               if c.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].amount == Decimal("49.00")
    assert "anything you'd like to tell us" in joined(talk(stack, me, "5")).lower()
    assert "Thanks for your feedback" in joined(talk(stack, me, "no thanks"))


def test_an_offer_that_was_not_made_is_not_executed(fresh_ledger: Stack) -> None:
    stack = fresh_ledger
    me = sender("forged")
    offer = joined(talk(stack, me, "there's a late fee on my bill I shouldn't pay", "INV-0207", "10001"))
    assert "$25.00" in offer
    # Aisha's refund was never offered in this conversation: typed as a button payload it reaches the assistant
    # as plain text (the REST channel passes only payloads of buttons it offered; the action refuses unknown
    # offer ids as well). However that text is read - as a question, or as nothing - Aisha's refund is neither
    # offered, confirmed nor made; at most James is asked again about his own offer.
    reply = joined(talk(stack, me, '/inform{"offer_id": "refund:INV-0501"}'))
    assert "INV-0501" not in reply and "refund of" not in reply.lower()
    assert "To confirm" not in reply or "late fee from INV-0207" in reply
    pending = stack.tracker(me)["slots"]["pending_offer"]
    assert pending is None or pending["id"] == "fee_reversal:INV-0207"  # at most James's own offer
    again = joined(talk(stack, me, "yes"))
    assert "INV-0501" not in again and "refund of" not in again.lower()
    assert not [c for c in lookup.list_corrections("ACC-1005", database_url=stack.database_url)
                if c.invoice_number == "INV-0501"]
    # a yes can only ever do what James himself was asked to confirm: his $25.00 late fee on INV-0207
    assert all(c.invoice_number == "INV-0207" and c.amount == Decimal("25.00")
               for c in lookup.list_corrections("ACC-1002", database_url=stack.database_url))


def test_priya_gets_the_three_month_plan_she_asked_for(fresh_ledger: Stack) -> None:
    stack = fresh_ledger
    me = sender("priya")
    plans = joined(talk(stack, me, "I need a payment plan", "ACC-1003", "60614"))
    assert "$1,240.00" in plans
    assert "over 3 months" in joined(talk(stack, me, "can I pay over 3 months?"))
    assert "REF-" in joined(talk(stack, me, "yes"))
    (plan,) = lookup.list_payment_plans("ACC-1003", database_url=stack.database_url)
    assert [i.amount for i in plan.installments] == [Decimal("413.33"), Decimal("413.33"), Decimal("413.34")]
    assert plan.total_amount == Decimal("1240.00")


def test_liam_declines_the_review_and_his_invoice_is_unchanged(fresh_ledger: Stack) -> None:
    stack = fresh_ledger
    me = sender("liam")
    before = lookup.get_invoice("INV-0610", database_url=stack.database_url)
    explained = joined(talk(stack, me, "I think my bill is wrong", "my account is ACC-1006", "02134"))
    assert "I don't see a mistake on INV-0610" in explained
    assert "haven't changed anything" in joined(talk(stack, me, "no thanks"))
    assert lookup.get_invoice("INV-0610", database_url=stack.database_url) == before
    assert not lookup.list_corrections("ACC-1006", database_url=stack.database_url)
    assert not list_handoffs(conversation_id=me, database_url=stack.database_url)


def test_tom_is_handed_off_and_the_conversation_is_paused(stack: Stack) -> None:
    me = sender("tom")
    reply = joined(talk(stack, me, "I'm disputing the $2,500 equipment charge on my bill", "ACC-1004", "73301"))
    (handoff,) = list_handoffs(conversation_id=me, database_url=stack.database_url)
    assert handoff.reason_code == "above_authority" and handoff.account_number == "ACC-1004"
    assert handoff.reference in reply and "billing specialist" in reply
    packet = handoff.context
    assert packet["reason_code"] == "authority" and packet["case"]["invoice_number"] == "INV-0455"
    assert {"sentiment", "explanation", "triggers", "customer_turns"} <= set(packet)
    tracker = stack.tracker(me)
    assert tracker["paused"] is True and tracker["slots"]["handoff_reference"] == handoff.reference
    assert stack.say(me, "hello? are you still there?") == []


def test_asking_twice_for_a_person_hands_off(stack: Stack) -> None:
    me = sender("human")
    offer = joined(talk(stack, me, "I want to talk to a human"))
    assert offer == "I can connect you now, or keep helping — which would you prefer?"
    assert not list_handoffs(conversation_id=me, database_url=stack.database_url)
    reply = joined(talk(stack, me, "let me speak to a real person"))
    (handoff,) = list_handoffs(conversation_id=me, database_url=stack.database_url)
    assert handoff.reason_code == "customer_request" and handoff.reference in reply
    assert stack.tracker(me)["paused"] is True
