"""The event broker never loses an event to a publish that neither succeeds nor fails."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import List

import pytest
from pamqp import commands as spec

from bot.resilience import broker as broker_module
from bot.resilience.broker import FlushingPikaEventBroker


class Channel:
    """An AMQP channel whose publishes hang (a reset connection) until ``healthy``, then confirm."""

    def __init__(self) -> None:
        self.healthy = False
        self.published: List[bytes] = []

    async def basic_publish(self, body: bytes, **_: object) -> spec.Basic.Ack:
        while not self.healthy:
            await asyncio.sleep(3600)
        self.published.append(body)
        return spec.Basic.Ack()


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "PUBLISH_TIMEOUT_S", 0.05)


def test_a_hanging_publish_is_kept_and_flushed_in_order_later(short_timeout: None) -> None:
    async def scenario() -> None:
        broker = FlushingPikaEventBroker("localhost", "guest", "guest", queues=["q"])
        channel = Channel()
        broker._exchange = SimpleNamespace(name="rasa-exchange", channel=channel)
        broker._connection = SimpleNamespace(is_closed=False)
        for i in range(3):
            await broker._publish({"event": "user", "text": f"m{i}"})
        assert [e["text"] for e in broker._unpublished_events] == ["m0", "m1", "m2"]  # none lost
        assert await broker.flush() == 0  # still hanging: kept, in order
        assert len(broker._unpublished_events) == 3
        channel.healthy = True
        assert await broker.flush() == 3
        assert [b for b in channel.published] == [b'{"event": "user", "text": "m%d"}' % i for i in range(3)]
        assert not broker._unpublished_events

    asyncio.run(scenario())


def test_a_negative_acknowledgement_is_a_failure(short_timeout: None) -> None:
    class Nacking(Channel):
        async def basic_publish(self, body: bytes, **_: object):  # type: ignore[override]
            return spec.Basic.Nack()

    async def scenario() -> None:
        broker = FlushingPikaEventBroker("localhost", "guest", "guest", queues=["q"])
        broker._exchange = SimpleNamespace(name="rasa-exchange", channel=Nacking())
        await broker._publish({"event": "bot", "text": "kept"})
        assert [e["text"] for e in broker._unpublished_events] == ["kept"]

    asyncio.run(scenario())
