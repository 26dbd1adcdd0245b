"""The assistant through its real servers: REST channel, HTTP API token, actions on the billing DB."""
from __future__ import annotations

import urllib.error
import uuid

import pytest

from tests.servers import Stack

pytestmark = pytest.mark.servers


def sender() -> str:
    return "test-" + uuid.uuid4().hex[:10]


def joined(replies: list) -> str:
    return " ".join(replies)


def test_greeting_says_what_it_can_do(stack: Stack) -> None:
    reply = joined(stack.texts(sender(), "hi"))
    assert "billing assistant" in reply
    assert "payment plan" in reply


def test_bot_challenge_is_answered_honestly(stack: Stack) -> None:
    reply = joined(stack.texts(sender(), "am I talking to a real person?"))
    assert "bot, not a person" in reply


def test_out_of_scope_is_redirected_to_billing(stack: Stack) -> None:
    reply = joined(stack.texts(sender(), "tell me a joke"))
    assert "only handle billing" in reply


def test_tracker_api_needs_the_token(stack: Stack) -> None:
    me = sender()
    stack.texts(me, "hello")
    with pytest.raises(urllib.error.HTTPError) as refused:
        stack.get(f"/conversations/{me}/tracker")
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        stack.get(f"/conversations/{me}/tracker", token="not-the-token")
    assert wrong.value.code == 401
    tracker = stack.tracker(me)
    assert tracker["sender_id"] == me
    assert any(e.get("text") == "hello" for e in tracker["events"] if e["event"] == "user")


def test_balance_is_read_from_the_billing_database_after_verification(stack: Stack) -> None:
    me = sender()
    asked = joined(stack.texts(me, "how much do I owe?"))
    assert "account number" in asked
    assert "email address or the postal code" in joined(stack.texts(me, "my account is ACC-1003"))
    summary = joined(stack.texts(me, "60614"))
    assert "Priya" in summary
    assert "$1,240.00" in summary  # INV-0311 + INV-0388, straight from the seeded ledger
    assert stack.tracker(me)["slots"]["verified"] is True


def test_wrong_postal_code_is_not_accepted(stack: Stack) -> None:
    me = sender()
    stack.texts(me, "what's my balance")
    stack.texts(me, "ACC-1003")
    reply = joined(stack.texts(me, "94110"))  # Maria's postal code, not Priya's
    assert "don't match" in reply
    assert "Priya" not in reply and "$" not in reply
    slots = stack.tracker(me)["slots"]
    assert slots["verified"] is False
    assert slots["verification_failures"] == 1


def test_sentiment_reaches_the_tracker_and_the_reply(stack: Stack) -> None:
    calm, upset = sender(), sender()
    calm_reply = stack.texts(calm, "could you explain my invoice please?")
    upset_reply = stack.texts(upset, "YOU CHARGED ME TWICE!!! this is ridiculous")
    assert calm_reply[0] == "I can help you with that."
    assert upset_reply[0].startswith("I'm") and "sorry" in upset_reply[0]  # acknowledgement before any question
    assert upset_reply[0].endswith("I can help you with that.")
    assert "account number" in upset_reply[-1]
    latest = stack.tracker(upset)["latest_message"]
    assert latest["sentiment"]["label"] == "negative"
    assert latest["sentiment"]["tone"] in ("frustrated", "angry")
    assert -1.0 <= latest["sentiment"]["score"] < 0
    slots = stack.tracker(upset)["slots"]
    assert slots["tone"] == latest["sentiment"]["tone"]
    assert stack.tracker(calm)["slots"]["tone"] == "calm"
