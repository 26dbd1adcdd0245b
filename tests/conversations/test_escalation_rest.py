"""Escalation triggers in real conversations (REST, running servers), and one that must not escalate.

Requested and authority are in test_disputes_rest.py; misunderstanding (two fallbacks) and no_resolution
are covered turn by turn in tests/escalation/test_rule.py.
"""
from __future__ import annotations

import uuid
from typing import List, Optional

import pytest

from bot.billing.handoffs import list_handoffs
from tests.servers import Stack

pytestmark = pytest.mark.servers


def converse(stack: Stack, *messages: str) -> tuple:
    me = "esc-" + uuid.uuid4().hex[:8]
    said: List[str] = []
    for message in messages:
        said.append(" ".join(r.get("text", "") for r in stack.say(me, message)))
    return me, said


def handoff_reason(stack: Stack, me: str) -> Optional[str]:
    found = list_handoffs(conversation_id=me, database_url=stack.database_url)
    return found[0].context.get("reason_code") if found else None


def test_legal_threat_goes_to_a_person_at_once(stack: Stack) -> None:
    me, said = converse(stack, "I'm going to sue you and report you to the CFPB")
    assert handoff_reason(stack, me) == "legal"
    assert "HND-" in said[-1] and stack.tracker(me)["paused"] is True


def test_three_failed_verifications_go_to_a_person(stack: Stack) -> None:
    me, said = converse(stack, "I was charged twice", "ACC-1001", "12345", "ACC-1001", "54321", "ACC-1001", "67890")
    assert "don't match" in said[2]
    assert handoff_reason(stack, me) == "verification"
    found = list_handoffs(conversation_id=me, database_url=stack.database_url)[0]
    assert found.account_number is None  # never verified: no account details in the packet
    assert found.context["customer"] is None and found.context["invoices"] == []


def test_anger_after_the_acknowledgement_goes_to_a_person(stack: Stack) -> None:
    me, said = converse(stack, "THIS IS RIDICULOUS!!! you people are USELESS and I'm furious",
                        "I'M SO ANGRY, THIS IS THE WORST COMPANY EVER!!!",
                        "ABSOLUTELY DISGUSTING SERVICE, I'M LIVID!!!")
    assert "sorry" in said[0].lower()
    assert handoff_reason(stack, me) == "sentiment"


def test_annoyed_once_then_satisfied_does_not_escalate(stack: Stack) -> None:
    me, said = converse(stack, "this is a bit annoying", "ok thanks, that's fine")
    assert "sorry" in said[0].lower()
    assert not list_handoffs(conversation_id=me, database_url=stack.database_url)
    assert stack.tracker(me)["paused"] is False
