"""The event broker never loses an event to a publish that neither succeeds nor fails, publishes in
batches that grow with the load, and keeps up with a busy event loop on the real RabbitMQ."""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

import aio_pika
import aiormq
import pytest
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from bot.resilience import broker as broker_module
from bot.resilience.amqp_batch import publish_batch
from bot.resilience.broker import FlushingPikaEventBroker

RABBIT = dict(host=os.environ.get("RABBITMQ_HOST", "127.0.0.1"), port=int(os.environ.get("RABBITMQ_PORT", "5672")),
              login=os.environ.get("RABBITMQ_USER", "guest"), password=os.environ.get("RABBITMQ_PASSWORD", "guest"))
AMQP_URL = "amqp://{login}:{password}@{host}:{port}/".format(**RABBIT)


class Channel:
    """The part of an aiormq channel in confirm mode that ``publish_batch`` writes to, and a server
    behind it: while ``healthy`` it confirms each message it reads (``Nack`` if ``nack``); otherwise
    the frames are lost and nothing is confirmed (a reset connection)."""

    publisher_confirms = True
    number = 1

    def __init__(self) -> None:
        self.healthy = False
        self.nack = False
        self.lock = asyncio.Lock()
        self.delivery_tag = 0
        self.confirmations: Dict[int, asyncio.Future] = {}
        self.message_id_delivery_tag: Dict[str, int] = {}
        self.write_queue: asyncio.Queue = asyncio.Queue(maxsize=10)
        self.published: List[bytes] = []
        self.writes: List[int] = []  # messages per write
        self._tag_seen = 0
        self._server = asyncio.get_running_loop().create_task(self._serve())

    def create_future(self) -> asyncio.Future:
        return asyncio.get_running_loop().create_future()

    @staticmethod
    def _split_body(body: bytes) -> List[ContentBody]:
        return [ContentBody(body)]

    async def _serve(self) -> None:
        while True:
            entry = await self.write_queue.get()
            bodies = [frame.value for frame in entry.frames if isinstance(frame, ContentBody)]
            self.writes.append(len(bodies))
            for body in bodies:
                self._tag_seen += 1
                confirmation = self.confirmations.pop(self._tag_seen, None)
                if not self.healthy or confirmation is None or confirmation.done():
                    continue
                self.published.append(body)
                confirmation.set_result(spec.Basic.Nack() if self.nack else spec.Basic.Ack())


def broker_on(channel: Channel) -> FlushingPikaEventBroker:
    broker = FlushingPikaEventBroker("localhost", "guest", "guest", queues=["q"],
                                     event_loop=asyncio.get_running_loop())
    broker._exchange = SimpleNamespace(name="rasa-exchange", channel=channel)
    broker._connection = SimpleNamespace(is_closed=False)
    return broker


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module, "PUBLISH_TIMEOUT_S", 0.05)


def test_a_hanging_publish_is_kept_and_flushed_in_order_later(short_timeout: None) -> None:
    async def scenario() -> None:
        channel = Channel()
        broker = broker_on(channel)
        for i in range(3):
            await broker._publish({"event": "user", "text": f"m{i}"})
        assert [e["text"] for e in broker._unpublished_events] == ["m0", "m1", "m2"]  # none lost
        assert await broker.flush() == 0  # still hanging: kept, in order
        assert len(broker._unpublished_events) == 3
        channel.healthy = True
        assert await broker.flush() == 3
        assert [json.loads(body) for body in channel.published] == [{"event": "user", "text": f"m{i}"} for i in range(3)]
        assert not broker._unpublished_events

    asyncio.run(scenario())


def test_a_negative_acknowledgement_is_a_failure(short_timeout: None) -> None:
    async def scenario() -> None:
        channel = Channel()
        channel.healthy = channel.nack = True
        broker = broker_on(channel)
        await broker._publish({"event": "bot", "text": "kept"})
        assert [e["text"] for e in broker._unpublished_events] == ["kept"]

    asyncio.run(scenario())


def test_events_published_in_one_pass_of_the_loop_go_out_in_one_write_in_order() -> None:
    async def scenario() -> None:
        channel = Channel()
        channel.healthy = True
        broker = broker_on(channel)
        for i in range(25):  # a turn's events, and more: no await in between
            broker.publish({"event": "slot", "value": i})
        while broker._background_tasks:
            await asyncio.sleep(0.001)
        assert channel.writes == [25]
        assert [json.loads(body)["value"] for body in channel.published] == list(range(25))
        assert not broker._unpublished_events
        broker.publish({"event": "slot", "value": 25})  # the writer starts again when needed
        while broker._background_tasks:
            await asyncio.sleep(0.001)
        assert channel.writes == [25, 1] and json.loads(channel.published[-1])["value"] == 25

    asyncio.run(scenario())


# --- against the real RabbitMQ ---------------------------------------------------------------------

@pytest.fixture
def exchange_name() -> Iterator[str]:
    name = "test_broker_" + uuid.uuid4().hex[:8]
    yield name

    async def delete() -> None:
        connection = await aio_pika.connect(**RABBIT)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(name)
            await channel.exchange_delete(name)

    asyncio.run(delete())


async def queued(name: str) -> List[Dict[str, Any]]:
    connection = await aio_pika.connect(**RABBIT)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True)
        messages = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            messages.append(json.loads(message.body))
        return messages


def test_publish_batch_on_a_real_channel_is_confirmed_in_order_and_a_returned_message_fails(
        exchange_name: str) -> None:
    async def scenario() -> None:
        connection = await aiormq.connect(AMQP_URL)
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.exchange_declare(exchange_name, exchange_type="fanout")
        await channel.queue_declare(exchange_name, durable=True)
        await channel.queue_bind(exchange_name, exchange_name)
        messages = [(json.dumps({"n": i}).encode(), spec.Basic.Properties(delivery_mode=2)) for i in range(300)]
        confirmations = await publish_batch(channel, exchange_name, messages)
        results = await asyncio.gather(*confirmations)
        assert all(isinstance(result, spec.Basic.Ack) for result in results)
        assert [m["n"] for m in await queued(exchange_name)] == list(range(300))
        # the default exchange with a routing key no queue has: returned, so it fails
        lost = await publish_batch(channel, "", [(b"{}", spec.Basic.Properties())], routing_key="no-such-queue")
        with pytest.raises(aiormq.exceptions.PublishError):
            await asyncio.wait_for(lost[0], 5)
        assert not channel.message_id_delivery_tag  # nothing left behind for returned messages
        await connection.close()

    asyncio.run(scenario())


def test_a_busy_event_loop_still_publishes_every_event_once_in_order(exchange_name: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Turns that hold the loop 20 ms each and publish 10 events: nothing waits a second."""
    monkeypatch.setattr(broker_module, "PUBLISH_TIMEOUT_S", 1.0)

    async def scenario() -> None:
        broker = FlushingPikaEventBroker(RABBIT["host"], RABBIT["login"], RABBIT["password"], port=RABBIT["port"],
                                         queues=[exchange_name], exchange_name=exchange_name,
                                         event_loop=asyncio.get_running_loop())
        await broker.connect()
        sent = []
        for turn in range(150):
            for i in range(10):
                sent.append(f"t{turn}e{i}")
                broker.publish({"event": "bot", "sender_id": f"s{turn % 7}", "text": sent[-1]})
            end = time.perf_counter() + 0.02
            while time.perf_counter() < end:  # the turn's CPU: the loop runs nothing else
                pass
            await asyncio.sleep(0)
        while broker._background_tasks:
            await asyncio.sleep(0.01)
        assert not broker._unpublished_events
        await broker.close()
        assert [m["text"] for m in await queued(exchange_name)] == sent

    asyncio.run(scenario())


def test_closing_waits_for_the_events_in_flight(exchange_name: str) -> None:
    async def scenario() -> None:
        broker = FlushingPikaEventBroker(RABBIT["host"], RABBIT["login"], RABBIT["password"], port=RABBIT["port"],
                                         queues=[exchange_name], exchange_name=exchange_name,
                                         event_loop=asyncio.get_running_loop())
        await broker.connect()
        for i in range(200):
            broker.publish({"event": "bot", "text": f"last turn {i}"})
        await broker.close()  # a server stopping right after its last turn
        assert not broker._unpublished_events
        assert [m["text"] for m in await queued(exchange_name)] == [f"last turn {i}" for i in range(200)]

    asyncio.run(scenario())
