"""Rasa's Pika event broker, which delivers every event once RabbitMQ is back.

Rasa 3.6's ``PikaEventBroker`` keeps events that failed to publish in memory and publishes them again
from the connection's reconnect callback. That callback runs as soon as the TCP connection is back,
often before the channel is reopened: the retries fail, go back into the buffer, and nothing tries
again until the next outage (seen in tests/faults: a conversation's events never reached the
analytics store). Here a small loop retries the buffer every ``FLUSH_INTERVAL_S`` while it is not
empty, in order, and stops at the first failure so later events never overtake earlier ones from the
buffer (the analytics store orders by event timestamp anyway).

endpoints.prod.yml::

    event_broker:
      type: bot.resilience.broker.FlushingPikaEventBroker
      url: ${RABBITMQ_HOST}
      ...
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

from rasa.core.brokers.pika import PikaEventBroker

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 2.0


class FlushingPikaEventBroker(PikaEventBroker):
    """``PikaEventBroker`` that keeps retrying the events it could not publish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flusher: Optional[asyncio.Task] = None

    async def connect(self) -> None:
        await super().connect()
        if self._flusher is None:
            self._flusher = self._loop.create_task(self._flush_forever())

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        """Rasa's reconnect callback: the flush loop does this once the channel is really back."""

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
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
        """Publish the buffered events in order; returns how many went out."""
        if not self._unpublished_events or self._exchange is None or not self.is_ready():
            return 0
        sent = 0
        while self._unpublished_events:
            event = self._unpublished_events[0]
            try:
                await self._exchange.publish(self._message(event, None), "")
            except Exception as exc:  # noqa: BLE001 - still down: keep it, try again later
                logger.debug("RabbitMQ not ready yet (%s); %d event(s) wait", type(exc).__name__,
                             len(self._unpublished_events))
                break
            self._unpublished_events.popleft()
            sent += 1
        if sent:
            logger.warning("published %d event(s) held back while RabbitMQ was unreachable", sent)
        return sent
