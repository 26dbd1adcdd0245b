"""The bounded SQL tracker store: long conversations start new sessions, nothing is lost."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime.store import ROLLOVER_REASON, BoundedSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))


def store(tmp_path: Path, max_turns: int = 3) -> BoundedSQLTrackerStore:
    return BoundedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"),
                                  max_session_turns=max_turns)


def start() -> List[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


def turn(text: str, intent: str, action: str) -> List[Event]:
    return [UserUttered(text, {"name": intent, "confidence": 1.0}), ActionExecuted(action), BotUttered(f"re: {text}"),
            ActionExecuted(ACTION_LISTEN_NAME)]


def run(coro):
    return asyncio.run(coro)


async def say(s: BoundedSQLTrackerStore, sender: str, text: str, intent: str, action: str) -> DialogueStateTracker:
    """What Rasa does per message: retrieve the current session, add the turn, save."""
    tracker = await s.retrieve(sender)
    if tracker is None:
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        for event in start():
            tracker.update(event)
    for event in turn(text, intent, action):
        tracker.update(event)
    await s.save(tracker)
    return tracker


def test_a_long_conversation_starts_new_sessions_and_keeps_every_event(tmp_path: Path) -> None:
    s = store(tmp_path, max_turns=3)

    async def conversation() -> None:
        tracker = await s.retrieve("c1")
        assert tracker is None
        tracker = DialogueStateTracker("c1", DOMAIN.slots)
        for event in [*start(), SlotSet("verified", True), SlotSet("customer_name", "Liam")]:
            tracker.update(event)
        await s.save(tracker)
        for i in range(10):
            await say(s, "c1", f"thanks {i}", "thank", "utter_welcome")

    run(conversation())
    current = run(s.retrieve("c1"))
    full = run(s.retrieve_full_tracker("c1"))
    # every message is stored once, in order
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == [f"thanks {i}" for i in range(10)]
    rollovers = [e for e in full.events if isinstance(e, SessionStarted) and (e.metadata or {}).get("reason")]
    assert len(rollovers) == 3  # after messages 3, 6 and 9
    assert all(e.metadata["reason"] == ROLLOVER_REASON for e in rollovers)
    # the current session holds only what came after the last rollover, with the slots carried over
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["thanks 9"]
    assert current.get_slot("verified") is True
    assert current.get_slot("customer_name") == "Liam"
    assert isinstance(current.events[0], SessionStarted)


def test_no_new_session_in_the_middle_of_a_form_or_after_a_question(tmp_path: Path) -> None:
    s = store(tmp_path, max_turns=2)

    async def conversation() -> DialogueStateTracker:
        await say(s, "c2", "hi", "greet", "utter_greet")
        await say(s, "c2", "is my bill right", "ask_invoice", "action_explain_invoice")
        # two turns, but the bot's last action may be followed up by a rule: no new session yet
        tracker = await s.retrieve("c2")
        assert not any(isinstance(e, SessionStarted) and e.metadata for e in tracker.events)
        tracker.update(ActiveLoop("verify_form"))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await s.save(tracker)
        for i in range(5):  # past the hard bound, but a form is active
            tracker = await s.retrieve("c2")
            assert not any(isinstance(e, SessionStarted) and e.metadata for e in tracker.events)
            for event in turn(f"ACC-{i}", "inform", "verify_form"):
                tracker.update(event)
            await s.save(tracker)
        tracker = await s.retrieve("c2")
        tracker.update(ActiveLoop(None))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await s.save(tracker)
        return await s.retrieve("c2")  # 7 turns >= 2 x 2, no form: the hard bound applies

    tracker = run(conversation())
    events = list(tracker.events)
    rollover = [i for i, e in enumerate(events) if isinstance(e, SessionStarted) and e.metadata]
    assert len(rollover) == 1
    assert [e.text for e in events[:rollover[0]] if isinstance(e, UserUttered)][-1] == "ACC-4"
    assert tracker.latest_action_name == ACTION_LISTEN_NAME
    assert tracker.active_loop_name is None


def test_saving_publishes_each_new_event_once(tmp_path: Path) -> None:
    published: List[dict] = []

    class Broker:
        def publish(self, event: dict) -> None:
            published.append(event)

    s = store(tmp_path, max_turns=2)
    s.event_broker = Broker()

    async def conversation() -> None:
        for i in range(5):
            await say(s, "c3", f"hi {i}", "greet", "utter_greet")

    run(conversation())
    stored = run(s.retrieve_full_tracker("c3")).events
    assert [p["event"] for p in published] == [e.type_name for e in stored]
    assert [p.get("text") for p in published if p["event"] == "user"] == [f"hi {i}" for i in range(5)]


def test_max_session_turns_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        store(tmp_path, max_turns=0)
