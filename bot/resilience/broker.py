"""Rasa's Pika event broker, which delivers every event once RabbitMQ is back.

Rasa 3.6's ``PikaEventBroker`` keeps events that failed to publish in memory and publishes them again
from the connection's reconnect callback. That callback runs as soon as the TCP connection is back,
often before the channel is reopened: the retries fail, go back into the buffer, and nothing tries
again until the next outage (seen in tests/faults: a conversation's events never reached the
analytics store). Here a small loop retries the buffer every ``FLUSH_INTERVAL_S`` while it is not
empty, in order, and stops at the first failure so later events never overtake earlier ones from the
buffer (the analytics store orders by event timestamp anyway).

Each event is published straight on the exchange's AMQP channel (aiormq's ``basic_publish``, with
publisher confirms, persistent, ``mandatory`` as aio-pika sets it), not through an ``aio_pika.Message``,
and without Rasa's deep copy of the event for a debug line that is not logged: 0.40 → ~0.18 ms of CPU
per event measured on this machine, ~10 events per turn (11 % of the Rasa server's CPU in
``make bench`` went to publishing).

``publish`` only queues the event: one writer task sends whatever is queued as one batch, all its
frames in one write (``bot/resilience/amqp_batch.py``), then waits for the batch's confirmations
together, up to ``PUBLISH_TIMEOUT_S``. Rasa's way - a task per event, each holding the channel's lock
until the socket has drained, and the connection's write queue 10 entries long - moves a few events
per pass of the event loop; with the loop busy with turns (~30 ms of CPU each at ``make bench``'s
c=10 on a slow machine), publishing fell behind the ~10 events of every turn, the waits passed
``PUBLISH_TIMEOUT_S`` and the events went to the retry buffer (2,000-3,900 of ~6,900 events per
``make bench`` single run, seen on 2026-12-03; ``scripts/bench_broker.py`` plays that load). Batches
grow with the load instead; events go out in the order of the ``publish`` calls.

endpoints.prod.yml::

    event_broker:
      type: bot.resilience.broker.FlushingPikaEventBroker
      url: ${RABBITMQ_HOST}
      ...
"""
from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Sequence, Text, Tuple

import ujson
from pamqp import commands as spec
from rasa.core.brokers.pika import PikaEventBroker
from rasa.shared.core.events import remove_parse_data

from bot.resilience import amqp_frames
from bot.resilience.amqp_batch import Message, publish_batch

# ujson (Sanic's dependency): the same JSON as json.dumps, ~2.4x faster, without the separators' spaces
encode = functools.partial(ujson.dumps, escape_forward_slashes=False)

logger = logging.getLogger(__name__)
amqp_frames.install()  # frames already received are read at once (bot/resilience/amqp_frames.py)

FLUSH_INTERVAL_S = 2.0
# A publish that has neither been confirmed nor failed by then counts as failed and is kept for the
# flush loop: on a connection that was reset, aiormq can wait for ever (the frame sits in the dead
# connection's write queue), and the event would be lost. Publishing it again is harmless: the
# analytics store keeps each event once (bot/analytics/store.py).
PUBLISH_TIMEOUT_S = 10.0
MAX_BATCH = 500  # events per write
CLOSE_GRACE_S = 5.0  # close() waits this long for the events in flight

Outgoing = Tuple[Dict[Text, Any], Optional[Dict[Text, Text]]]


class FlushingPikaEventBroker(PikaEventBroker):
    """``PikaEventBroker`` that publishes in batches and keeps retrying the events it could not publish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flusher: Optional[asyncio.Task] = None
        self._outgoing: Deque[Outgoing] = deque()
        self._writer: Optional[asyncio.Task] = None

    async def connect(self) -> None:
        await super().connect()
        if self._flusher is None:
            self._flusher = self._loop.create_task(self._flush_forever())

    def publish(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None) -> None:
        """Queues ``event`` for the writer task (started if it is not running)."""
        self._outgoing.append((event, headers))
        if self._writer is None or self._writer.done():
            self._writer = self._loop.create_task(self._write_outgoing())
            self._background_tasks.add(self._writer)
            self._writer.add_done_callback(self._background_tasks.discard)

    async def _write_outgoing(self) -> None:
        """Publishes what is queued, a batch at a time, until nothing is."""
        while self._outgoing:
            batch = [self._outgoing.popleft() for _ in range(min(MAX_BATCH, len(self._outgoing)))]
            try:
                await self._publish_batch(batch)
            except Exception:  # raise_on_failure: what was still queued is kept too
                self._unpublished_events.extend(event for event, _ in self._outgoing)
                self._outgoing.clear()
                raise

    async def _publish(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]] = None) -> None:
        """Rasa's ``_publish`` of one event: a batch of one."""
        await self._publish_batch([(event, headers)])

    async def _publish_batch(self, batch: List[Outgoing]) -> None:
        """Publishes the events. Those that fail or are not confirmed within ``PUBLISH_TIMEOUT_S`` (a
        negative acknowledgement is a failure) are kept, in order, for the flush loop; with
        ``raise_on_failure`` the broker then closes and raises."""
        if self._exchange is None:
            return
        confirmed = await self._send_batch([self._message_of(event, headers) for event, headers in batch])
        failed = [(event, error) for (event, _), error in zip(batch, confirmed) if error is not None]
        if logger.isEnabledFor(logging.DEBUG):
            for (event, _), error in zip(batch, confirmed):
                if error is None:
                    logger.debug("published to RabbitMQ: %s", remove_parse_data(event))
        if not failed:
            return
        error = failed[0][1]
        logger.error("publishing %d of %d event(s) to RabbitMQ failed (%s: %s); kept for retrying. First: %s",
                     len(failed), len(batch), type(error).__name__, error, remove_parse_data(failed[0][0]))
        if self.should_keep_unpublished_messages:
            self._unpublished_events.extend(event for event, _ in failed)
        if self.raise_on_failure:
            await self.close()
            raise error

    def _message_of(self, event: Dict[Text, Any], headers: Optional[Dict[Text, Text]]) -> Message:
        """A persistent message with the event as JSON (as Rasa's ``_message``, without aio-pika)."""
        return encode(event).encode(), spec.Basic.Properties(delivery_mode=2, headers=headers,
                                                                 app_id=self.rasa_environment)

    async def _send_batch(self, messages: Sequence[Message]) -> List[Optional[BaseException]]:
        """Publishes the messages on the exchange's channel and waits for their confirmations, all
        within ``PUBLISH_TIMEOUT_S``; per message ``None`` (confirmed) or why not."""
        assert self._exchange is not None
        if not messages:
            return []
        deadline = self._loop.time() + PUBLISH_TIMEOUT_S
        try:
            confirmations = await asyncio.wait_for(
                publish_batch(self._exchange.channel, self._exchange.name, messages), PUBLISH_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - a closed channel, a timeout: none of them went out
            return [exc] * len(messages)
        _, pending = await asyncio.wait(confirmations, timeout=max(0.0, deadline - self._loop.time()))
        errors: List[Optional[BaseException]] = []
        for confirmation in confirmations:
            if confirmation in pending:
                confirmation.cancel()
                errors.append(asyncio.TimeoutError(f"not confirmed within {PUBLISH_TIMEOUT_S} s"))
            elif confirmation.cancelled():
                errors.append(asyncio.CancelledError())
            elif confirmation.exception() is not None:
                errors.append(confirmation.exception())
            elif isinstance(confirmation.result(), spec.Basic.Nack):
                errors.append(RuntimeError("RabbitMQ did not accept the event (basic.nack)"))
            else:
                errors.append(None)
        return errors

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        """Rasa's reconnect callback: the flush loop does this once the channel is really back."""

    async def close(self) -> None:
        """Waits up to ``CLOSE_GRACE_S`` for the events being published (a server stopping right after
        its last turn), then closes; what is still unconfirmed is logged."""
        writer = self._writer
        if writer is not None and not writer.done() and writer is not asyncio.current_task():
            try:
                await asyncio.wait_for(asyncio.shield(writer), CLOSE_GRACE_S)
            except Exception:  # noqa: BLE001 - timed out or failed: reported below
                pass
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        self._unpublished_events.extend(event for event, _ in self._outgoing)
        self._outgoing.clear()
        if self._unpublished_events:
            logger.error("closing with %d unpublished event(s): they stay in the tracker store only",
                         len(self._unpublished_events))
        await super().close()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must survive anything; retried next round
                logger.exception("flushing unpublished events failed")

    async def flush(self) -> int:
        """Publish the buffered events in order, a batch at a time, up to the first that fails (it and
        those after it stay buffered); returns how many went out."""
        if not self._unpublished_events or self._exchange is None or not self.is_ready():
            return 0
        sent = 0
        while self._unpublished_events:
            batch = [self._unpublished_events[i] for i in range(min(MAX_BATCH, len(self._unpublished_events)))]
            errors = await self._send_batch([self._message_of(event, None) for event in batch])
            confirmed = next((i for i, error in enumerate(errors) if error is not None), len(errors))
            for _ in range(confirmed):
                self._unpublished_events.popleft()
            sent += confirmed
            if confirmed < len(batch):
                logger.debug("RabbitMQ not ready yet (%s); %d event(s) wait", type(errors[confirmed]).__name__,
                             len(self._unpublished_events))
                break
        if sent:
            logger.warning("published %d event(s) held back while RabbitMQ was unreachable", sent)
        return sent
