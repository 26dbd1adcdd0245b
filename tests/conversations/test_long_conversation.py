"""A conversation far longer than a session (bounded by max_session_turns in endpoints.yml) keeps
working through the real servers, and the tracker store still holds every event."""
from __future__ import annotations

import json
import re
import sqlite3
import uuid
from typing import Iterator, List

import pytest
import yaml

from tests.servers import ROOT, Stack, start_stack

pytestmark = pytest.mark.servers

MAX_SESSION_TURNS = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]["max_session_turns"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Servers of its own: a customer typing 78 messages within a minute or two is over the per-sender rate
    limit the shared stack keeps at its default (tests/security/test_rate_limits_stack.py), so it is off here."""
    running = start_stack(tmp_path_factory.mktemp("long-stack"),
                          extra_env={"RATE_LIMIT_PER_SENDER_PER_MINUTE": "0"})
    yield running
    running.stop()


def joined(stack: Stack, me: str, message: str) -> str:
    return " ".join(r.get("text", "") for r in stack.say(me, message))


def stored_events(stack: Stack, me: str) -> List[dict]:
    with sqlite3.connect(stack.env["TRACKER_DB"]) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (me,)).fetchall()
    return [json.loads(data) for (data,) in rows]


def test_a_long_conversation_keeps_working_and_every_event_is_stored(stack: Stack) -> None:
    me = "long-" + uuid.uuid4().hex[:8]
    sent: List[str] = []

    def say(message: str) -> str:
        sent.append(message)
        return joined(stack, me, message)

    assert "confirm it's you" in say("what's my balance?")
    assert "postal code" in say("ACC-1006")
    assert re.search(r"you're verified.*(owed|paid up).*ACC-1006", say("02134"))
    cycle = [("hi", r"^Hi, I'm Northwind Broadband's billing assistant"),
             ("what's my balance?", r"^Liam, .*(owed|paid up).*ACC-1006"),  # still verified: no new check
             ("thank you", r"^You're welcome!")]
    turns = 3 * MAX_SESSION_TURNS + 3
    for i in range(turns):
        message, expected = cycle[i % len(cycle)]
        reply = say(message)
        assert re.search(expected, reply), f"turn {len(sent)}: {message!r} -> {reply!r}"

    # the last reply left before its turn was stored (bot/runtime/early_reply.py); the HTTP API's tracker
    # read waits for the conversation's lock, so once it answers, every turn is in the store
    assert [e["text"] for e in stack.tracker(me)["events"] if e["event"] == "user"][-1] == sent[-1]
    events = stored_events(stack, me)
    # every message is in the store, once, in order
    assert [e["text"] for e in events if e["event"] == "user"] == sent
    starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
    rollovers = [i for i in starts if (events[i].get("metadata") or {}).get("reason") == "max_session_turns"]
    assert len(rollovers) >= 2
    # each session holds at most 2 x max_session_turns messages; the slots went along with the customer
    bounds = starts + [len(events)]
    for begin, end in zip(bounds, bounds[1:]):
        assert sum(1 for e in events[begin:end] if e["event"] == "user") <= 2 * MAX_SESSION_TURNS
    latest = events[rollovers[-1]:]
    assert any(e["event"] == "slot" and e["name"] == "verified" and e["value"] is True for e in latest)
    # Rasa's API returns the whole conversation too
    tracker = stack.tracker(me)
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == sent
