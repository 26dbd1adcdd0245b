"""bot/runtime/early_reply.py with the trained model: the parse taken before the lock is the parse Rasa
makes under it, and a REST customer's reply leaves before the turn is saved, which still completes."""
from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Tuple

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import ConversationPaused, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.channels.rest import RestChannel
from bot.runtime import early_reply
from tests.channels.conftest import start_app, stop_app

MESSAGES = ["hi", "you charged me twice!!", "INV-0142", "i want a human NOW", "5", "/affirm", ""]


async def _user_events(agent: Any, sender: str) -> List[UserUttered]:
    tracker = await agent.tracker_store.retrieve(sender)
    assert tracker is not None, sender
    return [e for e in tracker.events if isinstance(e, UserUttered)]


@pytest.fixture
def agent(trained_agent: Any) -> Any:
    store = InMemoryTrackerStore(trained_agent.domain)
    trained_agent.tracker_store = trained_agent.processor.tracker_store = store
    return trained_agent


async def test_the_parse_before_the_lock_is_the_one_rasa_makes_under_it(agent: Any) -> None:
    for text in MESSAGES:
        ours, rasas = f"ours-{uuid.uuid4().hex}", f"rasa-{uuid.uuid4().hex}"
        await agent.handle_message(UserMessage(text, CollectingOutputChannel(), ours))
        early_reply.uninstall()
        try:
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), rasas))
        finally:
            early_reply.install()
        [mine], [theirs] = await _user_events(agent, ours), await _user_events(agent, rasas)
        assert mine.parse_data.pop("message_id") != theirs.parse_data.pop("message_id")  # two messages
        assert mine.parse_data == theirs.parse_data, text
        assert (mine.intent, mine.entities) == (theirs.intent, theirs.entities)


async def test_the_parse_runs_outside_the_lock_and_once(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: List[Tuple[str, bool]] = []
    held = {"now": False}
    parse, lock = agent.processor.parse_message, agent.lock_store.lock

    async def counting_parse(message: UserMessage, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        seen.append((message.text, held["now"]))
        return await parse(message, *args, **kwargs)

    class Held:
        def __init__(self, cm: Any) -> None:
            self.cm = cm

        async def __aenter__(self) -> Any:
            value = await self.cm.__aenter__()
            held["now"] = True
            return value

        async def __aexit__(self, *exc: Any) -> Any:
            held["now"] = False
            return await self.cm.__aexit__(*exc)

    monkeypatch.setattr(agent.processor, "parse_message", counting_parse)
    monkeypatch.setattr(agent.lock_store, "lock", lambda *a, **k: Held(lock(*a, **k)))
    await agent.handle_message(UserMessage("hi", CollectingOutputChannel(), f"once-{uuid.uuid4().hex}"))
    assert seen == [("hi", False)]  # parsed once, before the lock
    given = {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "text": "hello there"}
    await agent.handle_message(UserMessage("hello there", CollectingOutputChannel(), f"given-{uuid.uuid4().hex}",
                                           parse_data=given))
    assert seen == [("hi", False)]  # a message that carries its parse is not parsed again


class SlowSave(InMemoryTrackerStore):
    """Saves a turn (a tracker with a user message) only once the test lets it (``go``); counts them."""

    def __init__(self, domain: Any) -> None:
        super().__init__(domain)
        self.go = asyncio.Event()
        self.saving = asyncio.Event()
        self.saves = 0

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not any(isinstance(event, UserUttered) for event in tracker.events):
            return await super().save(tracker)  # a new session's start
        self.saving.set()
        await self.go.wait()
        await super().save(tracker)
        self.saves += 1


async def _post(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    async with session.post(url, json={"sender": sender, "message": text}) as resp:
        assert resp.status == 200
        return await resp.json()


@pytest.fixture
async def served(agent: Any, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Tuple[SlowSave, RestChannel, str]]:
    """The REST channel on a live Sanic server, the trained agent saving through :class:`SlowSave`."""
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER_PER_MINUTE", "0")
    monkeypatch.delenv("RATE_LIMIT_REDIS_URL", raising=False)
    store = SlowSave(agent.domain)
    agent.tracker_store = agent.processor.tracker_store = store
    channel = RestChannel(str(tmp_path / "channels.db"))
    _, server, base = await start_app(channel, agent)
    try:
        yield store, channel, base + "/webhooks/rest/webhook"
    finally:
        await stop_app(server)


async def test_a_rest_reply_leaves_before_the_save_and_the_next_message_waits_for_it(
        agent: Any, served: Tuple[SlowSave, RestChannel, str]) -> None:
    store, channel, url = served
    async with aiohttp.ClientSession() as session:
        first = await asyncio.wait_for(_post(session, url, "dana", "hi"), timeout=30)
        assert [m["text"] for m in first] and store.saving.is_set() and store.saves == 0
        assert len(channel._turns) == 1  # answered, still saving
        # GET /conversations/dana/tracker meanwhile: it reads once the answered turn is stored
        read = asyncio.ensure_future(agent.processor.fetch_full_tracker_with_initial_session("dana"))
        second = asyncio.ensure_future(_post(session, url, "dana", "you charged me twice!!"))
        await asyncio.sleep(0.3)
        assert not second.done() and not read.done()  # the conversation's lock is still held by the first turn
        store.go.set()
        assert [e.text for e in (await read).events if isinstance(e, UserUttered)] == ["hi"]
        replies = await asyncio.wait_for(second, timeout=30)
        assert replies
        await channel.finish_turns()
        assert store.saves == 2 and not channel._turns
    tracker = await store.retrieve("dana")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hi", "you charged me twice!!"]


async def test_a_turn_with_nothing_to_say_is_answered_after_it_ends(
        agent: Any, served: Tuple[SlowSave, RestChannel, str]) -> None:
    store, _, url = served
    tracker = DialogueStateTracker("erin", agent.domain.slots)
    tracker.update(ConversationPaused())
    store.go.set()
    await store.save(tracker)  # with a person: the bot says nothing
    store.go.clear()
    async with aiohttp.ClientSession() as session:
        pending = asyncio.ensure_future(_post(session, url, "erin", "hello?"))
        await asyncio.wait_for(store.saving.wait(), timeout=30)
        await asyncio.sleep(0.2)
        assert not pending.done()  # no reply to send early: the channel waits for the turn
        store.go.set()
        assert await asyncio.wait_for(pending, timeout=30) == []


def test_installed_in_the_server() -> None:
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    import bot.runtime  # noqa: F401

    assert Agent.handle_message is early_reply.handle_message
    assert MessageProcessor._run_prediction_loop is early_reply._run_prediction_loop
    assert MessageProcessor.fetch_full_tracker_with_initial_session is early_reply.fetch_full_tracker_with_initial_session
