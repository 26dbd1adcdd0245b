"""Sentiment timeline and context packet for the agent."""
from __future__ import annotations

import json
from decimal import Decimal

from bot.escalation import ConversationState, context_packet, evaluate, load_config, parse_config, sentiment_timeline
from bot.escalation.timeline import redact
from tests.escalation.support import ANGRY, ANNOYED, CALM, ack, turn

CONFIG = load_config()


def conversation() -> ConversationState:
    return ConversationState(
        turns=[turn("hi", "greet", sentiment=CALM),
               turn("/affirm", "affirm", 1.0, sentiment=None),
               turn("you billed me twice, my email is maria.lopez@example.com", sentiment=ANNOYED),
               turn("call me on +1 415 555 0142, postal code 94110, this is absurd " + "x" * 100, sentiment=ANGRY),
               turn("STILL WRONG", sentiment=ANGRY)],
        bot_turns=[ack(2)], disputed_amount=Decimal("98.00"), verification_failures=1,
    )


def test_timeline_entries_use_customer_turn_indices():
    entries = sentiment_timeline(conversation(), CONFIG)
    assert [e.turn for e in entries] == [0, 2, 3, 4]  # turn 1 had no sentiment
    assert [e.tone for e in entries] == ["calm", "frustrated", "angry", "angry"]
    assert [e.label for e in entries] == ["neutral", "negative", "negative", "negative"]
    assert entries[3].score == -0.9 and entries[3].smoothed < entries[1].smoothed
    assert [e.after_acknowledgement for e in entries] == [False, False, True, True]


def test_snippets_are_short_and_redacted():
    entries = sentiment_timeline(conversation(), CONFIG)
    assert "[email]" in entries[1].text and "example.com" not in entries[1].text
    assert "[phone]" in entries[2].text and "[postal code]" in entries[2].text and "94110" not in entries[2].text
    assert len(entries[2].text) == 80 and entries[2].text.endswith("…")
    raw = sentiment_timeline(conversation(), parse_config({"timeline": {"redact": False, "snippet_chars": 500}}))
    assert "maria.lopez@example.com" in raw[1].text


def test_redact_keeps_billing_references_and_amounts():
    text = "INV-1000001 and ACC-1001, $2,500.00 or 12345.67, billed 2026-11-01"
    assert redact(text) == text


def test_context_packet_is_json_serialisable():
    state = conversation()
    decision = evaluate(state, CONFIG)
    assert decision.reason_code == "sentiment"
    packet = context_packet(state, decision, CONFIG)
    json.dumps(packet)
    assert packet["reason_code"] == "sentiment" and packet["handoff_reason"] == "other"
    assert packet["disputed_amount"] == "98.00" and packet["acknowledged_after_turn"] == 2
    assert packet["sentiment"]["peak_tone"] == "angry" and len(packet["sentiment"]["timeline"]) == 4
