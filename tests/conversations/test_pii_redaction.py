"""A card number typed in the chat is nowhere: not in the tracker store, the billing database (interaction
log, handoff packets), the channel state or the server logs."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from bot.billing.handoffs import list_handoffs
from tests.servers import Stack

pytestmark = pytest.mark.servers

CARD = "4000 0566 5566 5556"  # a Luhn-valid test Visa number
SSN = "219-09-9999"


def test_typed_card_and_ssn_are_redacted_everywhere(stack: Stack) -> None:
    me = "pii-" + uuid.uuid4().hex[:8]
    stack.say(me, f"I was charged twice on my card {CARD}, my SSN is {SSN}")
    stack.say(me, f"INV-0142 (paid with {CARD.replace(' ', '')})")
    stack.say(me, "maria.lopez@example.com")
    stack.say(me, "I want to talk to a human")
    stack.say(me, "let me speak to a real person")
    assert list_handoffs(conversation_id=me, database_url=stack.database_url)
    events = stack.tracker(me)["events"]
    typed = [e["text"] for e in events if e.get("event") == "user"]
    assert "[card ending 5556]" in typed[0] and "[redacted SSN]" in typed[0]
    raw = [CARD, CARD.replace(" ", ""), SSN, SSN.replace("-", "")]
    workdir = Path(stack.env["TRACKER_DB"]).parent
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert any(p.name == "tracker.db" for p in files) and any(p.name == "billing.db" for p in files)
    for path in files:
        content = path.read_bytes()
        for number in raw:
            assert number.encode() not in content, f"{number} found in {path.name}"
