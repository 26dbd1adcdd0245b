"""Per-conversation locks in Redis: atomic tickets, and an in-memory fallback while Redis is down.

Rasa 3.6's ``RedisLockStore`` keeps a conversation's ticket queue as one JSON string and changes it
by read-modify-write from the client: ``get`` → add a ticket → ``set``. Two Rasa servers that read the
queue at the same time both write it back with their own ticket added, one ticket is lost, and both
servers handle the same conversation at once (the race ``tests/faults/test_lock_store.py`` shows).
It also costs 7 Redis round trips per message (issue: get + set; acquire: get; cleanup: get + set,
get, delete), each with JSON on both ends, and a waiting message polls only once a second.

Here each step is one Lua script that Redis runs atomically, on one hash per conversation
(``<prefix>tickets:<conversation id>``: field ``n`` numbers the tickets, one field per live ticket
holds its expiry in Redis's own clock, so replicas with skewed clocks agree):

- ``issue``: drop expired tickets, take the next number, store its expiry; returns the ticket and
  whether it is served at once (the usual case: one round trip to acquire);
- ``serving``: drop expired tickets; the lowest live ticket is served (-1: this ticket expired).
  It also renews the asking ticket's expiry: a waiting message stays in the queue as long as its
  server polls (Rasa's tickets expire a lifetime after they were issued, so a message that waited
  for a crashed server's ticket was failed with ``LockError`` when its own ticket expired first -
  within a poll of the stale one), and a served ticket holds the lock a whole lifetime from when it
  was served, not from when it was issued;
- ``release``: drop the ticket; the hash goes when no ticket is left.

The lock expires with its last ticket (``PEXPIRE``), so a crashed server leaves nothing behind.
A message that waits polls every ``POLL_START_S``, backing off to ``POLL_MAX_S``.

When Redis cannot be reached (``redis.ConnectionError``: Rasa's store would raise out of
``handle_message`` and the message would be dropped), conversations lock in this server's memory
(serialised on this server; across replicas only until Redis is back — logged as a warning) and
return to Redis by themselves. A conversation locked in memory stays there until that lock is
released, so a recovery in the middle of a turn never loses a ticket.

A release that fails because Redis is down (it went down during the turn, after its ticket was
issued) is kept and done once Redis answers again: before this server's next ticket, and every
``RELEASE_RETRY_S`` on the event loop meanwhile. Otherwise the conversation's next message - here or
on another replica - would wait for the stale ticket to expire (``LOCK_LIFETIME``, a minute). A
kept release is dropped once its ticket has expired: the conversation's hash may be gone by then and
its numbers start again at 1, so releasing the old number could free someone else's ticket.

endpoints.prod.yml::

    lock_store:
      type: bot.resilience.lock_store.FallbackRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
      ...
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Dict, List, Optional, Text, Tuple, Union

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
DEFAULT_SOCKET_TIMEOUT_S = 3.0
POLL_START_S = 0.005
POLL_MAX_S = 0.25
RELEASE_RETRY_S = 1.0

# Shared by the scripts: ``now`` in ms from Redis's clock; expired tickets removed; ``serving`` is the
# lowest live ticket number (nil when none is left).
_PURGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local serving = nil
for i = 1, #fields, 2 do
  if fields[i] ~= 'n' then
    if tonumber(fields[i + 1]) <= now then
      redis.call('HDEL', KEYS[1], fields[i])
    else
      local number = tonumber(fields[i])
      if serving == nil or number < serving then serving = number end
    end
  end
end
"""

# ARGV[1]: lifetime in ms. Returns {ticket, serving}.
ISSUE = _PURGE + """
local ticket = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], ticket, now + tonumber(ARGV[1]))
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if serving == nil then serving = ticket end
return {ticket, serving}
"""

# ARGV[1]: ticket, ARGV[2]: lifetime in ms. Returns the ticket served now, or -1 when ARGV[1] is no
# longer live. A live ticket's expiry moves to now + lifetime: a message whose server is polling stays
# in the queue however long it waits, and once served holds the lock for a whole lifetime.
SERVING = _PURGE + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return serving
"""

# ARGV[1]: ticket. Returns how many tickets are still live.
RELEASE = """
redis.call('HDEL', KEYS[1], ARGV[1])
""" + _PURGE + """
if serving == nil then redis.call('DEL', KEYS[1]) return 0 end
return redis.call('HLEN', KEYS[1]) - 1
"""


class FallbackRedisLockStore(RedisLockStore):
    """Atomic ticket locks in Redis, in this server's memory while Redis is unreachable."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        settings = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        settings.update(kwargs)
        host = (endpoint_config.url if endpoint_config is not None else None) or settings.pop("host", "localhost")
        settings.pop("host", None)
        settings.setdefault("socket_timeout", DEFAULT_SOCKET_TIMEOUT_S)
        super().__init__(host=host, **settings)
        self._memory = InMemoryLockStore()
        self._down = threading.Event()
        self._issue = self.red.register_script(ISSUE)
        self._serving = self.red.register_script(SERVING)
        self._release = self.red.register_script(RELEASE)
        # (conversation, ticket) -> time.monotonic() by which the ticket has expired in Redis
        self._unreleased: Dict[Tuple[Text, int], float] = {}
        self._unreleased_guard = threading.Lock()
        self._retry: Optional[Tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle]] = None

    def tickets_key(self, conversation_id: Text) -> Text:
        return f"{self.key_prefix}tickets:{conversation_id}"

    # -- Redis reachability ----------------------------------------------------------------------

    def _went_down(self, exc: BaseException) -> None:
        if not self._down.is_set():
            self._down.set()
            logger.warning("Redis lock store unreachable (%s): locking conversations in this server's memory "
                           "until it is back", type(exc).__name__)

    def _is_up(self) -> None:
        if self._down.is_set():
            self._down.clear()
            logger.warning("Redis lock store reachable again: conversations lock in Redis")

    def _in_memory(self, conversation_id: Text) -> bool:
        return conversation_id in self._memory.conversation_locks

    # -- the lock ---------------------------------------------------------------------------------

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Hold the conversation's lock; waits for earlier tickets, in order.

        ``wait_time_in_seconds`` caps the polling interval (Rasa polls at exactly that interval).
        Raises ``LockError`` when this message's ticket expired while it waited (no poll for a
        whole lifetime: this server's event loop was stalled).
        """
        acquired = None if self._in_memory(conversation_id) else await self._acquire_in_redis(
            conversation_id, lock_lifetime, wait_time_in_seconds)
        if acquired is None:
            async with self._memory.lock(conversation_id, lock_lifetime, min(wait_time_in_seconds, POLL_MAX_S)) as held:
                yield held
            return
        ticket, served_at = acquired
        try:
            yield TicketLock(conversation_id)
        finally:  # by served_at + lifetime the ticket has expired in Redis too
            self._release_in_redis(conversation_id, ticket, served_at + lock_lifetime)

    async def _acquire_in_redis(self, conversation_id: Text, lifetime_s: float,
                                max_wait_s: float) -> Optional[Tuple[int, float]]:
        """The ticket once it is served, and ``time.monotonic()`` just before the call that found it
        served (its expiry counts from then, in Redis's clock); None when Redis is unreachable (lock in
        memory instead)."""
        key = self.tickets_key(conversation_id)
        lifetime_ms = int(lifetime_s * 1000)
        try:
            if self._unreleased:
                self._release_kept()
            asked = time.monotonic()
            ticket, serving = self._issue(keys=[key], args=[lifetime_ms])
            self._is_up()
            poll = POLL_START_S
            while serving != ticket:
                if serving == -1:
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                logger.debug(f"Conversation '{conversation_id}': ticket {ticket} waits for {ticket - serving} "
                             f"earlier message(s).")
                await asyncio.sleep(poll)
                poll = min(poll * 1.5, POLL_MAX_S, max(max_wait_s, POLL_START_S))
                asked = time.monotonic()
                serving = self._serving(keys=[key], args=[ticket, lifetime_ms])
        except REDIS_DOWN as exc:
            self._went_down(exc)
            return None
        return int(ticket), asked

    def _release_in_redis(self, conversation_id: Text, ticket: int, expires: Optional[float] = None) -> None:
        """Release ``ticket``; when Redis is down, keep the release for later if ``expires`` (monotonic)
        says when the ticket expires by itself (without it, it is left to expire)."""
        try:
            self._release(keys=[self.tickets_key(conversation_id)], args=[ticket])
        except REDIS_DOWN as exc:
            self._went_down(exc)
            if expires is not None and time.monotonic() < expires:
                with self._unreleased_guard:
                    self._unreleased[(conversation_id, ticket)] = expires
                self._retry_later()

    def _release_kept(self) -> int:
        """Do the releases kept while Redis was down; how many reached Redis (raises ``REDIS_DOWN`` if it
        is still down).

        A kept release is dropped once its ticket has expired: by then the hash may have been deleted
        and its numbers reissued from 1."""
        with self._unreleased_guard:
            kept = sorted(self._unreleased.items(), key=lambda item: item[1])
        released = 0
        for (conversation_id, ticket), expires in kept:
            if time.monotonic() < expires:
                self._release(keys=[self.tickets_key(conversation_id)], args=[ticket])
                released += 1
                logger.info("Released ticket %s of conversation '%s', kept while Redis was down",
                            ticket, conversation_id)
            with self._unreleased_guard:
                self._unreleased.pop((conversation_id, ticket), None)
        return released

    def _retry_later(self) -> None:
        """Retry the kept releases every ``RELEASE_RETRY_S`` on the running loop, until none is left."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a synchronous caller): the next ticket issued releases them
            return
        if self._retry is None or self._retry[0] is not loop:  # none yet, or on a loop that has ended
            self._retry = (loop, loop.call_later(RELEASE_RETRY_S, self._retry_kept))

    def _retry_kept(self) -> None:
        self._retry = None
        try:
            if self._release_kept():
                self._is_up()
        except REDIS_DOWN:
            pass
        if self._unreleased:
            self._retry_later()

    # -- Rasa's LockStore interface, for callers that look at a lock ------------------------------

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            ticket, _ = self._issue(keys=[self.tickets_key(conversation_id)], args=[int(lock_lifetime * 1000)])
        except REDIS_DOWN as exc:
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc
        return int(ticket)

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        """The live tickets, in order (expiries in Redis's clock, seconds)."""
        if self._in_memory(conversation_id):
            return self._memory.get_lock(conversation_id)
        try:
            fields = self.red.hgetall(self.tickets_key(conversation_id))
        except REDIS_DOWN as exc:
            self._went_down(exc)
            return None
        tickets = sorted(_tickets(fields))
        if not tickets:
            return None
        return TicketLock(conversation_id, deque(Ticket(number, expires_ms / 1000) for number, expires_ms in tickets))

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("tickets change only through the atomic scripts (issue/serving/release)")

    def delete_lock(self, conversation_id: Text) -> None:
        if self._in_memory(conversation_id):
            self._memory.delete_lock(conversation_id)
            return
        try:
            self.red.delete(self.tickets_key(conversation_id))
        except REDIS_DOWN as exc:
            self._went_down(exc)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self._release_in_redis(conversation_id, ticket_number)


def _tickets(fields: Dict[Union[bytes, Text], bytes]) -> List[Tuple[int, int]]:
    """(ticket, expiry in ms) of a tickets hash, without the counter field."""
    out = []
    for name, value in fields.items():
        name = name.decode() if isinstance(name, bytes) else name
        if name != "n":
            out.append((int(name), int(value)))
    return out
