"""Rasa's Redis lock store, which keeps serving when Redis is unreachable.

Rasa 3.6's ``RedisLockStore`` raises ``redis.ConnectionError`` out of ``handle_message`` when Redis
is down: the message is dropped before it reaches the tracker and the customer hears nothing.
This store falls back to in-process locks while Redis cannot be reached (conversations are still
serialised on this server; across replicas only until Redis is back — logged as a warning) and
returns to Redis by itself. A conversation whose lock was taken in memory stays there until that
lock is released, so a recovery in the middle of a turn never loses a ticket.

endpoints.prod.yml::

    lock_store:
      type: bot.resilience.lock_store.FallbackRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      ...
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Text, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
DEFAULT_SOCKET_TIMEOUT_S = 3.0


class FallbackRedisLockStore(RedisLockStore):
    """``RedisLockStore`` with an in-memory fallback while Redis is unreachable."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        settings = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        settings.update(kwargs)
        host = (endpoint_config.url if endpoint_config is not None else None) or settings.pop("host", "localhost")
        settings.pop("host", None)
        settings.setdefault("socket_timeout", DEFAULT_SOCKET_TIMEOUT_S)
        super().__init__(host=host, **settings)
        self._memory = InMemoryLockStore()
        self._down = threading.Event()

    def _redis(self, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        try:
            result = call()
        except REDIS_DOWN as exc:
            if not self._down.is_set():
                self._down.set()
                logger.warning("Redis lock store unreachable (%s): locking conversations in this server's memory "
                               "until it is back", type(exc).__name__)
            return fallback()
        if self._down.is_set():
            self._down.clear()
            logger.warning("Redis lock store reachable again: conversations lock in Redis")
        return result

    def _in_memory(self, conversation_id: Text) -> bool:
        return conversation_id in self._memory.conversation_locks

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        if self._in_memory(conversation_id):
            return self._memory.get_lock(conversation_id)
        return self._redis(lambda: super(FallbackRedisLockStore, self).get_lock(conversation_id), lambda: None)

    def save_lock(self, lock: TicketLock) -> None:
        if self._in_memory(lock.conversation_id):
            self._memory.save_lock(lock)
            return
        self._redis(lambda: super(FallbackRedisLockStore, self).save_lock(lock), lambda: self._memory.save_lock(lock))

    def delete_lock(self, conversation_id: Text) -> None:
        if self._in_memory(conversation_id):
            self._memory.delete_lock(conversation_id)
            return
        self._redis(lambda: super(FallbackRedisLockStore, self).delete_lock(conversation_id), lambda: None)
