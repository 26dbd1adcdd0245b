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


def test_reads_the_same_session_as_rasas_store_on_sqlite_and_postgresql(tmp_path: Path) -> None:
    """The prebuilt statements load what ``SQLTrackerStore`` loads: the latest session, in id order;
    a tracker this store did not load is saved after a COUNT, without duplicating events."""
    import uuid

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    pg_db = "trackertest_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{pg_db}"'))
    configs = [dict(dialect="sqlite", db=str(tmp_path / "same.db")),
               dict(dialect="postgresql", url="127.0.0.1", port=5432, username="postgres", db=pg_db)]
    try:
        for config in configs:
            # as endpoints.prod.yml configures it: commits without waiting for the WAL flush (PostgreSQL)
            ours = BoundedSQLTrackerStore(domain=DOMAIN, max_session_turns=50, synchronous_commit="off", **config)
            rasas = SQLTrackerStore(domain=DOMAIN, **config)
            statements: List[str] = []  # in transactions
            autocommitted: List[str] = []  # PostgreSQL: one statement, its own transaction
            sa.event.listen(ours.engine, "before_cursor_execute",
                            lambda conn, cursor, statement, *args: statements.append(statement))
            if ours._autocommit is not None:
                sa.event.listen(ours._autocommit, "before_cursor_execute",
                                lambda conn, cursor, statement, *args: autocommitted.append(statement))

            async def conversation() -> None:
                for sender in ("a", "b"):  # two conversations in one table
                    for i in range(3):
                        await say(ours, sender, f"{sender} first session {i}", "greet", "utter_greet")
                    tracker = await ours.retrieve(sender)
                    for event in [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(),
                                  SlotSet("customer_name", "Liam"), ActionExecuted(ACTION_LISTEN_NAME)]:
                        tracker.update(event)
                    await ours.save(tracker)
                    await say(ours, sender, f"{sender} second session", "thank", "utter_welcome")
                for sender in ("a", "b"):
                    mine, theirs = await ours.retrieve(sender), await rasas.retrieve(sender)
                    assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
                    assert mine.get_slot("customer_name") == "Liam"
                    assert [e.text for e in mine.events if isinstance(e, UserUttered)] == [f"{sender} second session"]
                # a tracker built elsewhere (no loaded count): only its new events are inserted
                foreign = await rasas.retrieve("a")
                foreign.update(UserUttered("from elsewhere", {"name": "affirm", "confidence": 1.0}))
                await ours.save(foreign)
                again = await rasas.retrieve("a")
                assert [e.as_dict() for e in again.events] == [e.as_dict() for e in foreign.events]
                assert len((await rasas.retrieve_full_tracker("a")).events) == 3 * 4 + 3 + 4 + 4 + 1

            run(conversation())
            relaxed = statements.count("SET LOCAL synchronous_commit TO OFF")
            saves = sum(1 for st in statements if st.startswith("INSERT INTO events"))
            single = sum(1 for st in autocommitted if st.startswith("INSERT INTO events"))
            if config["dialect"] == "postgresql":
                # saves of a tracker it loaded, or of a new conversation that the same task's
                # retrieve found no row of: one INSERT on an autocommit connection whose commits do
                # not wait for the disk; a tracker it did not load (the foreign one) is counted
                # first, in a transaction
                assert single >= 10 and saves == 1 and relaxed == 1
                # the turns' reads ran on the autocommit pool too: in transactions, only the counts
                assert all("count(*)" in st for st in statements if st.startswith("SELECT"))
                assert any(st.startswith("SELECT events.id") for st in autocommitted)
                with ours._autocommit.connect() as connection:
                    assert connection.execute(sa.text("SHOW synchronous_commit")).scalar() == "off"
                ours._autocommit.dispose()
            else:
                assert relaxed == 0 and saves >= 8 and not autocommitted
            ours.engine.dispose()
            rasas.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
        admin.dispose()
