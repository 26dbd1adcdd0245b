"""The tracker store keeps each conversation's session after saving it and reads only newer rows.

Whatever it keeps, ``retrieve`` must return what a full load from the table returns (Rasa's own
``SQLTrackerStore.retrieve`` is the reference), on SQLite and on PostgreSQL, with two servers writing
the same conversation in turn, after a turn that failed before saving, after a new session started
elsewhere and after rows disappeared.
"""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.runtime.store import BoundedSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: Any, tmp_path: Path) -> Iterator[Dict[str, Any]]:
    if request.param == "sqlite":
        yield dict(dialect="sqlite", db=str(tmp_path / "tracker.db"))
        return
    name = "snapshots_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield dict(dialect="postgresql", url="127.0.0.1", port=5432, username="postgres", db=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Counted:
    """A store of ours and a count of the full loads (latest-session queries) it ran."""

    def __init__(self, config: Dict[str, Any], **kwargs: Any) -> None:
        self.store = BoundedSQLTrackerStore(domain=DOMAIN, max_session_turns=50, **config, **kwargs)
        self.full_loads = 0
        for engine in {self.store.engine, self.store._reader()}:  # PostgreSQL: reads on the autocommit pool
            sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().startswith("SELECT events.id, events.data") and "max(events.timestamp)" in statement:
            self.full_loads += 1


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def start() -> List[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


def turn(text: str, intent: str = "inform", action: str = "utter_welcome") -> List[Event]:
    return [UserUttered(text, {"name": intent, "confidence": 1.0}), ActionExecuted(action),
            SlotSet("customer_name", text), BotUttered(f"re: {text}"), ActionExecuted(ACTION_LISTEN_NAME)]


async def say(store: BoundedSQLTrackerStore, sender: str, text: str) -> DialogueStateTracker:
    """What Rasa does per message: retrieve the current session (or start one), add the turn, save."""
    tracker = await store.retrieve(sender)
    if tracker is None:
        tracker = DialogueStateTracker(sender, DOMAIN.slots)
        for event in start():
            tracker.update(event)
    for event in turn(text):
        tracker.update(event)
    await store.save(tracker)
    return tracker


def state(tracker: DialogueStateTracker) -> Dict[str, Any]:
    """Everything a turn reads from a tracker."""
    return {
        "events": [event.as_dict() for event in tracker.events],
        "slots": tracker.current_slot_values(),
        "latest_action": tracker.latest_action,
        "active_loop": tracker.active_loop_name,
        "latest_message": tracker.latest_message.text if tracker.latest_message else None,
    }


def texts(tracker: DialogueStateTracker) -> List[str]:
    return [event.text for event in tracker.events if isinstance(event, UserUttered)]


def test_a_kept_session_is_what_a_full_load_returns_and_costs_no_full_load(config: Dict[str, Any]) -> None:
    ours = Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)

    async def conversation() -> None:
        await say(ours.store, "c1", "first")
        await say(ours.store, "c1", "second")  # a full load: the new conversation was not loaded here
        loads = ours.full_loads
        for i in range(8):
            await say(ours.store, "c1", f"message {i}")
            mine, reference = await ours.store.retrieve("c1"), await rasas.retrieve("c1")
            assert state(mine) == state(reference)
            assert mine.get_slot("customer_name") == f"message {i}"
        assert ours.full_loads == loads  # every later turn started from the kept session
        assert texts(await rasas.retrieve("c1")) == ["first", "second", *(f"message {i}" for i in range(8))]

    run(conversation())
    ours.store.engine.dispose()
    rasas.engine.dispose()


def test_two_servers_writing_one_conversation_in_turn_lose_and_reorder_nothing(config: Dict[str, Any]) -> None:
    a, b = Counted(config), Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)

    async def conversation() -> None:
        sent: List[str] = []
        for i in range(12):
            server = (a, b)[i % 2] if i < 6 else (a, a, b)[i % 3]
            sent.append(f"message {i} via {'ab'[server is b]}")
            await say(server.store, "shared", sent[-1])
            reference = await rasas.retrieve("shared")
            assert texts(reference) == sent
            for other in (a, b):  # both servers read the same session, whoever wrote last
                assert state(await other.store.retrieve("shared")) == state(reference)
        full = await rasas.retrieve_full_tracker("shared")
        assert texts(full) == sent  # each message stored once, in the order sent

    run(conversation())
    for store in (a.store, b.store, rasas):
        store.engine.dispose()


def test_a_turn_that_fails_before_saving_leaves_the_kept_session_as_stored(config: Dict[str, Any]) -> None:
    ours = Counted(config)

    async def conversation() -> None:
        for text in ("one", "two", "three"):
            await say(ours.store, "c2", text)
        stored = state(await ours.store.retrieve("c2"))
        failed = await ours.store.retrieve("c2")
        for event in [*turn("never saved"), ActiveLoop("verify_form")]:
            failed.update(event)  # the turn raises here: no save
        again = await ours.store.retrieve("c2")
        assert state(again) == stored
        assert "never saved" not in texts(again) and again.active_loop_name is None

    run(conversation())
    ours.store.engine.dispose()


def test_a_new_session_started_elsewhere_is_loaded_from_the_table(config: Dict[str, Any]) -> None:
    a, b = Counted(config), Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)

    async def conversation() -> None:
        for text in ("one", "two", "three"):
            await say(a.store, "c3", text)
        tracker = await b.store.retrieve("c3")  # the other server starts a new session
        for event in [*start(), SlotSet("customer_name", "carried")]:
            tracker.update(event)
        await b.store.save(tracker)
        loads = a.full_loads
        mine = await a.store.retrieve("c3")
        assert a.full_loads == loads + 1
        assert state(mine) == state(await rasas.retrieve("c3"))
        assert texts(mine) == [] and sum(isinstance(e, SessionStarted) for e in mine.events) == 1
        # and this server's own new session: the next turn loads it from the table too
        await say(a.store, "c3", "four")
        assert state(await a.store.retrieve("c3")) == state(await rasas.retrieve("c3"))

    run(conversation())
    for store in (a.store, b.store, rasas):
        store.engine.dispose()


def test_rows_removed_from_the_table_are_not_served_from_memory(config: Dict[str, Any]) -> None:
    ours = Counted(config)

    async def conversation() -> None:
        for text in ("one", "two", "three"):
            await say(ours.store, "c4", text)
        with ours.store.engine.begin() as connection:  # e.g. an operator erasing the conversation
            connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'c4'"))
        assert await ours.store.retrieve("c4") is None
        await say(ours.store, "c4", "after the purge")
        assert texts(await ours.store.retrieve("c4")) == ["after the purge"]

    run(conversation())
    ours.store.engine.dispose()


def test_kept_sessions_are_bounded_least_recently_used_first(tmp_path: Path) -> None:
    ours = Counted(dict(dialect="sqlite", db=str(tmp_path / "bounded.db")), cache_trackers=2)

    async def conversations() -> None:
        for sender in ("x", "y", "z"):
            for text in ("one", "two"):
                await say(ours.store, sender, text)
        loads = ours.full_loads
        await ours.store.retrieve("z")
        await ours.store.retrieve("y")
        assert ours.full_loads == loads  # the two most recent are kept
        await ours.store.retrieve("x")
        assert ours.full_loads == loads + 1  # the oldest was dropped: loaded from the table

    run(conversations())
    ours.store.engine.dispose()


def test_keeping_can_be_switched_off(tmp_path: Path) -> None:
    ours = Counted(dict(dialect="sqlite", db=str(tmp_path / "off.db")), cache_trackers=0)

    async def conversation() -> None:
        for text in ("one", "two", "three"):
            await say(ours.store, "c5", text)
        assert ours.full_loads == 3
        assert texts(await ours.store.retrieve("c5")) == ["one", "two", "three"]

    run(conversation())
    ours.store.engine.dispose()


def test_the_next_turn_resumes_the_dialogue_states_of_the_last_one(tmp_path: Path) -> None:
    """The kept session carries its computed dialogue states: the next turn replays only its new
    events, and gets the states Rasa's own ``past_states`` computes from a fresh load; a turn that
    failed after computing states for events never saved does not leak into the next one."""
    from bot.runtime import states_cache

    config = dict(dialect="sqlite", db=str(tmp_path / "states.db"))
    ours = Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)

    def replays(tracker: DialogueStateTracker) -> List[Any]:
        return [entry[2] for entry in tracker.__dict__.get(states_cache.CACHE_ATTRIBUTE, {}).values()]

    async def conversation() -> None:
        await say(ours.store, "c6", "one")
        previous: List[Any] = []
        for i in range(6):
            tracker = await ours.store.retrieve("c6")
            reference = await rasas.retrieve("c6")
            events = turn(f"turn {i}")
            for event in events[:1]:  # the message, then the prediction of the next action
                tracker.update(event)
                reference.update(event)
            for ignore in (False, True):
                assert tracker.past_states(DOMAIN, ignore_rule_only_turns=ignore) == \
                    states_cache._ORIGINAL(reference, DOMAIN, ignore_rule_only_turns=ignore)
            if previous and i != 4:
                assert set(map(id, replays(tracker))) == set(map(id, previous))  # resumed, not rebuilt
            if i == 4:  # the failed turn had moved the shared replays on: they start again
                assert not set(map(id, replays(tracker))) & set(map(id, failed_states))
            if i == 3:  # this turn fails after predicting: nothing saved
                failed_states = replays(tracker)
                continue
            for event in events[1:]:
                tracker.update(event)
            await ours.store.save(tracker)
            previous = replays(tracker)
            assert previous
        assert failed_states

    run(conversation())
    ours.store.engine.dispose()
    rasas.engine.dispose()


@pytest.mark.parametrize("wrapped", [False, True], ids=["store", "fail-safe"])
def test_a_new_conversation_is_stored_without_counting_its_rows(config: Dict[str, Any], wrapped: bool) -> None:
    """Directly, and wrapped in the ``FailSafeTrackerStore`` that Rasa's agent puts around every store
    (whose own ``get_or_create_tracker`` creates and saves the new tracker)."""
    ours = Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)
    served = FailSafeTrackerStore(ours.store) if wrapped else ours.store
    statements: List[str] = []
    for engine in {ours.store.engine, ours.store._reader()}:
        sa.event.listen(engine, "before_cursor_execute", lambda c, cur, statement, *a: statements.append(statement))

    async def conversation() -> None:
        created = await served.get_or_create_tracker("new")
        again = await served.get_or_create_tracker("new")  # now found: not created twice
        assert [event.as_dict() for event in again.events] == [event.as_dict() for event in created.events]
        for event in [*start()[:2], *turn("hello")]:
            again.update(event)
        await served.save(again)
        reference = await rasas.retrieve_full_tracker("new")
        assert [e.as_dict() for e in reference.events] == [e.as_dict() for e in again.events]
        assert [type(e).__name__ for e in reference.events][:2] == ["ActionExecuted", "ActionExecuted"]

    run(conversation())
    assert not [s for s in statements if "count(" in s.lower()]
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2  # the created tracker's action_listen, then the turn: each row once
    ours.store.engine.dispose()
    rasas.engine.dispose()


def test_only_the_task_that_found_no_rows_may_skip_the_count(config: Dict[str, Any]) -> None:
    """A tracker saved by another task than the ``retrieve`` that found the conversation empty (rows
    may have been written between the two) is counted first: its events are stored once."""
    ours = Counted(config)
    rasas = SQLTrackerStore(domain=DOMAIN, **config)

    async def conversation() -> None:
        assert await ours.store.retrieve("late") is None
        other = DialogueStateTracker("late", DOMAIN.slots)
        for event in start():
            other.update(event)
        await asyncio.create_task(rasas.save(other))  # written meanwhile, by another server
        mine = await rasas.retrieve("late")  # the stored session, as a server loads it
        for event in turn("hello"):
            mine.update(event)
        await asyncio.create_task(ours.store.save(mine))  # not the task that looked
        stored = await rasas.retrieve("late")
        assert [e.as_dict() for e in stored.events] == [e.as_dict() for e in mine.events]
        assert len((await rasas.retrieve_full_tracker("late")).events) == len(start()) + len(turn("hello"))

    run(conversation())
    ours.store.engine.dispose()
    rasas.engine.dispose()
