"""The event broker under a busy event loop: does publishing keep up with the turns?

A Rasa server's event loop spends most of its time in turns (CPU that does not yield). Every turn
publishes ~10 events. This script plays that against the real RabbitMQ (.env: RABBITMQ_*): ``--turns``
turns, each publishing ``--events`` events and then holding the loop for ``--busy-ms`` of CPU, and
reports how many events were confirmed, how many went to the retry buffer (not confirmed within
``--timeout`` s), how long the last confirmation took after the last turn, and the broker's CPU per
event (the process's CPU minus the busy work).

    PYTHONPATH=. .venv/bin/python scripts/bench_broker.py [--turns 600] [--busy-ms 30] [--mode all]

Modes: ``per-event`` publishes the way Rasa 3.6's ``PikaEventBroker`` does (a task per event, each
holding the channel's lock until the socket has drained, and its own timeout) and reads frames the
way aiormq does; ``batched`` is ``bot.resilience.broker.FlushingPikaEventBroker``'s publishing (one
writer task, one write per batch, ``bot/resilience/amqp_batch.py``) with aiormq's reading;
``batched+frames`` is the broker as the assistant runs it, which also reads frames already received
at once (``bot/resilience/amqp_frames.py``). Each run uses its own exchange and queue, deleted at
the end.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from typing import Any, Dict, List

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import aio_pika  # noqa: E402
from dotenv import load_dotenv  # noqa: E402

from bot.resilience import amqp_frames  # noqa: E402
from bot.resilience import broker as broker_module  # noqa: E402
from bot.resilience.broker import FlushingPikaEventBroker  # noqa: E402


MODES = ["per-event", "batched", "batched+frames"]


class PerEventBroker(FlushingPikaEventBroker):
    """Rasa's publishing: a task per event; each awaits its own ``basic_publish`` (socket drained
    under the channel's lock) and its confirmation, within its own timeout."""

    def publish(self, event: Dict[str, Any], headers: Any = None) -> None:
        task = self._loop.create_task(self._publish_one(event))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _publish_one(self, event: Dict[str, Any]) -> None:
        assert self._exchange is not None
        try:
            await asyncio.wait_for(self._exchange.channel.basic_publish(
                json.dumps(event).encode(), exchange=self._exchange.name, routing_key="",
                properties=broker_module.spec.Basic.Properties(delivery_mode=2), mandatory=True),
                broker_module.PUBLISH_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - counted as not confirmed
            self._unpublished_events.append(event)


def busy(ms: float) -> None:
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        pass


async def run(mode: str, turns: int, events: int, busy_ms: float, timeout: float) -> Dict[str, Any]:
    broker_module.PUBLISH_TIMEOUT_S = timeout
    if mode == "batched+frames":
        amqp_frames.install()
    else:
        amqp_frames.uninstall()
    name = f"bench_broker_{mode.replace('+', '_')}_{uuid.uuid4().hex[:8]}"
    cls = PerEventBroker if mode == "per-event" else FlushingPikaEventBroker
    broker = cls(os.environ.get("RABBITMQ_HOST", "127.0.0.1"), os.environ.get("RABBITMQ_USER", "guest"),
                 os.environ.get("RABBITMQ_PASSWORD", "guest"), port=int(os.environ.get("RABBITMQ_PORT", 5672)),
                 queues=[name], exchange_name=name, event_loop=asyncio.get_running_loop())
    await broker.connect()
    sent: List[str] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for turn in range(turns):
        for i in range(events):
            text = f"t{turn}e{i}"
            sent.append(text)
            broker.publish({"sender_id": f"s{turn % 10}", "event": "bot", "timestamp": time.time(), "text": text,
                            "metadata": {"utter_action": "utter_can_help"}})
        busy(busy_ms)
        await asyncio.sleep(0)  # the turn's awaits: the loop runs other tasks once
    turns_done = time.perf_counter()
    while broker._background_tasks:
        await asyncio.sleep(0.005)
    drained = time.perf_counter()
    cpu = time.process_time() - cpu0 - turns * busy_ms / 1000
    failed = len(broker._unpublished_events)
    broker._unpublished_events.clear()
    await broker.close()
    connection = await aio_pika.connect(host=os.environ.get("RABBITMQ_HOST", "127.0.0.1"),
                                        port=int(os.environ.get("RABBITMQ_PORT", 5672)),
                                        login=os.environ.get("RABBITMQ_USER", "guest"),
                                        password=os.environ.get("RABBITMQ_PASSWORD", "guest"))
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, durable=True)
        received: List[str] = []
        while True:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                break
            received.append(json.loads(message.body)["text"])
        await queue.delete(if_unused=False, if_empty=False)
        await channel.exchange_delete(name)
    in_order = [t for t in sent if t in set(received)] == received
    return {"mode": mode, "events": len(sent), "confirmed": len(sent) - failed, "retry_buffer": failed,
            "in_queue": len(received), "in_order": in_order, "wall_s": round(drained - wall0, 2),
            "last_confirm_after_last_turn_ms": round(1000 * (drained - turns_done), 1),
            "broker_cpu_us_per_event": round(1e6 * max(cpu, 0.0) / len(sent), 1)}


def main() -> None:
    load_dotenv()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--events", type=int, default=10, help="events per turn")
    parser.add_argument("--busy-ms", type=float, default=30.0, help="CPU per turn that does not yield")
    parser.add_argument("--timeout", type=float, default=10.0, help="PUBLISH_TIMEOUT_S")
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    args = parser.parse_args()
    modes = MODES if args.mode == "all" else [args.mode]
    for mode in modes:
        result = asyncio.run(run(mode, args.turns, args.events, args.busy_ms, args.timeout))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
