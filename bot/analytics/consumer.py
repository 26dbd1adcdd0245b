"""Consume Rasa's events from RabbitMQ into the analytics store: ``python -m bot.analytics.consumer``.

Settings: RABBITMQ_HOST/PORT/USER/PASSWORD, RABBITMQ_QUEUE, ANALYTICS_DATABASE_URL. A message is
acknowledged only after its event is stored, so a crash loses nothing (a redelivery is ignored by the
store's event key). ``--drain`` stops when the queue is empty (for reports and tests).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from typing import Any, Dict, List, Optional

import aio_pika
from dotenv import load_dotenv

from bot.analytics.store import add_events

logger = logging.getLogger(__name__)

BATCH = 200
BATCH_WAIT_S = 0.2


def amqp_url() -> str:
    return (f"amqp://{os.environ.get('RABBITMQ_USER', 'guest')}:{os.environ.get('RABBITMQ_PASSWORD', 'guest')}@"
            f"{os.environ.get('RABBITMQ_HOST', '127.0.0.1')}:{os.environ.get('RABBITMQ_PORT', '5672')}/")


async def consume(queue_name: str, url: Optional[str] = None, drain: bool = False, idle_seconds: float = 2.0) -> int:
    """Store the queue's events until stopped (``drain``: until no event came for ``idle_seconds``).

    RabbitMQ pushes the messages (``basic.consume``, up to ``BATCH`` unacknowledged); they are
    stored ``BATCH`` at a time, or whatever came within ``BATCH_WAIT_S``, in one transaction, then
    acknowledged together. (Asking for each message with ``basic.get`` cost ~2.5 ms of CPU per event:
    in ``make bench`` this consumer used more CPU than either action server.)
    """
    stored = 0
    loop = asyncio.get_running_loop()
    connection = await aio_pika.connect_robust(amqp_url())
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=BATCH)
        queue = await channel.declare_queue(queue_name, durable=True)
        inbox: "asyncio.Queue[aio_pika.abc.AbstractIncomingMessage]" = asyncio.Queue()
        tag = await queue.consume(inbox.put)
        try:
            while True:
                try:
                    messages = [await asyncio.wait_for(inbox.get(), timeout=idle_seconds)]
                except asyncio.TimeoutError:
                    if drain:
                        return stored
                    continue
                await _fill(messages, inbox, loop.time() + BATCH_WAIT_S)
                stored += add_events(_bodies(messages), url)
                await messages[-1].ack(multiple=True)  # all of them, only once they are stored
        finally:
            await queue.cancel(tag)


async def _fill(messages: List[aio_pika.abc.AbstractIncomingMessage],
                inbox: "asyncio.Queue[aio_pika.abc.AbstractIncomingMessage]", deadline: float) -> None:
    """Add what is waiting, then what arrives before ``deadline``, until the batch is full."""
    loop = asyncio.get_running_loop()
    while len(messages) < BATCH:
        if not inbox.empty():
            messages.append(inbox.get_nowait())
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        try:
            messages.append(await asyncio.wait_for(inbox.get(), timeout=remaining))
        except asyncio.TimeoutError:
            return


def _bodies(messages: List[aio_pika.abc.AbstractIncomingMessage]) -> List[Dict[str, Any]]:
    events = []
    for message in messages:
        try:
            events.append(json.loads(message.body))
        except ValueError:
            logger.warning("analytics: dropped a message that is not JSON")
    return events


def main(argv: Optional[list] = None) -> int:
    load_dotenv(override=False)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", default=os.environ.get("RABBITMQ_QUEUE", "northwind_events"))
    parser.add_argument("--drain", action="store_true", help="stop when the queue is empty")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    stored = asyncio.run(consume(args.queue, drain=args.drain))
    print(f"analytics: stored {stored} new event(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
