"""The analytics consumer against the real RabbitMQ: every event stored once, nothing acknowledged
before it is stored, bad messages dropped without stopping the rest."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pika
import pytest

from bot.analytics import consumer
from bot.analytics.store import load_events


def event(sender: str, i: int) -> Dict[str, Any]:
    return {"sender_id": sender, "event": "user", "timestamp": 1_700_000_000.0 + i, "text": f"message {i}",
            "parse_data": {"intent": {"name": "charged_twice", "confidence": 0.9}}}


@pytest.fixture
def queue() -> Iterator[str]:
    name = "test_consumer_" + uuid.uuid4().hex[:8]
    yield name
    connection = pika.BlockingConnection(consumer.connection_parameters())
    connection.channel().queue_delete(name)
    connection.close()


def publish(queue: str, bodies: List[bytes]) -> None:
    connection = pika.BlockingConnection(consumer.connection_parameters())
    channel = connection.channel()
    channel.queue_declare(queue, durable=True)
    for body in bodies:
        channel.basic_publish("", queue, body)
    connection.close()


def waiting(queue: str) -> int:
    connection = pika.BlockingConnection(consumer.connection_parameters())
    count = connection.channel().queue_declare(queue, durable=True).method.message_count
    connection.close()
    return count


def test_every_event_is_stored_once_and_acknowledged(queue: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    events = [event("c1", i) for i in range(450)]  # more than two batches
    bodies = [json.dumps(e).encode() for e in events]
    publish(queue, bodies[:300] + [b"not json {"] + bodies[300:] + bodies[:5])  # 5 redelivered duplicates
    assert consumer.consume(queue, url=url, drain=True, idle_seconds=0.5) == 450
    assert waiting(queue) == 0
    assert [e["text"] for e in load_events(url)] == [f"message {i}" for i in range(450)]
    assert consumer.consume(queue, url=url, drain=True, idle_seconds=0.3) == 0  # nothing left, nothing twice


def test_events_that_could_not_be_stored_stay_in_the_queue(queue: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    publish(queue, [json.dumps(event("c2", i)).encode() for i in range(30)])

    def broken(batch: Any, url: Any = None) -> int:
        raise RuntimeError("analytics database down")

    monkeypatch.setattr(consumer, "add_events", broken)
    with pytest.raises(RuntimeError):
        consumer.consume(queue, url=url, drain=True, idle_seconds=0.3)
    monkeypatch.undo()
    assert waiting(queue) == 30  # not acknowledged: back in the queue
    assert consumer.consume(queue, url=url, drain=True, idle_seconds=0.3) == 30
    assert len(load_events(url, ["c2"])) == 30


def test_a_lost_connection_is_opened_again(queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    publish(queue, [json.dumps(event("c3", i)).encode() for i in range(10)])
    real, calls = consumer._Session.run, []

    def flaky(self: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise pika.exceptions.StreamLostError("connection reset")
        real(self)

    monkeypatch.setattr(consumer._Session, "run", flaky)
    monkeypatch.setattr(consumer.time, "sleep", lambda s: None)
    assert consumer.consume(queue, url=url, drain=True, idle_seconds=0.3) == 10
    assert len(calls) == 2
