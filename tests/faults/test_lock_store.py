"""FallbackRedisLockStore against the real Redis: atomic tickets shared by two "replicas", expiry, and
the in-memory fallback through a proxy the test cuts and restores."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Iterator, List

import pytest
import redis
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.resilience.lock_store import POLL_MAX_S, FallbackRedisLockStore, _tickets
from tests.faults.proxy import TcpProxy

DB = 3


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy("127.0.0.1", 6379).start()
    yield p
    p.close()


def _store(port: int, prefix: str) -> FallbackRedisLockStore:
    return FallbackRedisLockStore(EndpointConfig(url="127.0.0.1", port=port, db=DB, key_prefix=prefix))


async def _turn(store: RedisLockStore, conversation: str, during=None) -> None:  # type: ignore[no-untyped-def]
    async with store.lock(conversation, wait_time_in_seconds=0.05):
        if during is not None:
            during()


def test_locks_in_redis_then_in_memory_while_redis_is_down_then_in_redis_again(proxy: TcpProxy) -> None:
    prefix = "lt" + uuid.uuid4().hex[:8]
    store, conversation = _store(proxy.port, prefix), "c-" + uuid.uuid4().hex[:6]
    direct = redis.Redis(db=DB)
    seen = []
    asyncio.run(_turn(store, conversation, lambda: seen.append(direct.exists(store.tickets_key(conversation)))))
    assert seen == [1]  # held in Redis during the turn, released after
    assert not direct.exists(store.tickets_key(conversation))

    proxy.cut()
    asyncio.run(_turn(store, conversation, lambda: seen.append(conversation in store._memory.conversation_locks)))
    assert seen[-1] is True and conversation not in store._memory.conversation_locks

    # Redis comes back in the middle of a turn that locked in memory: the turn ends cleanly.
    asyncio.run(_turn(store, conversation, proxy.restore))
    assert conversation not in store._memory.conversation_locks
    asyncio.run(_turn(store, conversation, lambda: seen.append(direct.exists(store.tickets_key(conversation)))))
    assert seen[-1] == 1


def test_rasas_own_redis_lock_store_fails_when_redis_is_down(proxy: TcpProxy) -> None:
    """What the fallback is for: Rasa 3.6's store raises, and the message would be dropped."""
    store = RedisLockStore(host="127.0.0.1", port=proxy.port, db=DB, key_prefix="lt" + uuid.uuid4().hex[:8])
    proxy.cut()
    with pytest.raises(LockError):
        asyncio.run(_turn(store, "c-" + uuid.uuid4().hex[:6]))


def _conversation() -> str:
    return "c-" + uuid.uuid4().hex[:8]


def test_two_replicas_never_serve_one_conversation_at_once() -> None:
    """Two stores with their own Redis connections (two Rasa servers), 4 messages at a time each."""
    prefix = "lt" + uuid.uuid4().hex[:8]
    stores = [_store(6379, prefix), _store(6379, prefix)]
    conversation = _conversation()
    inside, most, done = [0], [0], []
    guard = threading.Lock()

    async def message(store: FallbackRedisLockStore, n: int) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            await asyncio.sleep(0.001)
            with guard:
                inside[0] -= 1
                done.append(n)

    async def replica(store: FallbackRedisLockStore, base: int) -> None:
        for round_ in range(8):
            await asyncio.gather(*(message(store, base + round_ * 10 + i) for i in range(4)))

    threads = [threading.Thread(target=lambda s=s, b=b: asyncio.run(replica(s, b))) for s, b in ((stores[0], 0),
                                                                                                  (stores[1], 1000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 64 and len(set(done)) == 64
    assert most[0] == 1
    assert not redis.Redis(db=DB).exists(stores[0].tickets_key(conversation))  # nothing left behind


def test_rasas_store_loses_a_ticket_when_two_servers_issue_at_once_ours_does_not() -> None:
    """Rasa's get → add ticket → set: both servers read the empty queue, both are served."""
    prefix = "lt" + uuid.uuid4().hex[:8]
    conversation = _conversation()
    rasa_a = RedisLockStore(host="127.0.0.1", db=DB, key_prefix=prefix)
    rasa_b = RedisLockStore(host="127.0.0.1", db=DB, key_prefix=prefix)
    lock_a, lock_b = rasa_a.get_or_create_lock(conversation), rasa_b.get_or_create_lock(conversation)
    ticket_a, ticket_b = lock_a.issue_ticket(60), lock_b.issue_ticket(60)
    rasa_a.save_lock(lock_a)
    rasa_b.save_lock(lock_b)
    assert ticket_a == ticket_b  # the same ticket twice
    assert not rasa_a.get_lock(conversation).is_locked(ticket_a)
    assert not rasa_b.get_lock(conversation).is_locked(ticket_b)  # both may go ahead
    rasa_a.delete_lock(conversation)

    ours_a, ours_b = _store(6379, prefix), _store(6379, prefix)
    first, second = ours_a.issue_ticket(conversation), ours_b.issue_ticket(conversation)
    assert first != second
    assert [t.number for t in ours_b.get_lock(conversation).tickets] == sorted([first, second])
    ours_a.cleanup(conversation, first)
    ours_b.cleanup(conversation, second)
    assert ours_a.get_lock(conversation) is None


def test_messages_wait_in_order_and_an_expired_ticket_frees_the_conversation() -> None:
    store = _store(6379, "lt" + uuid.uuid4().hex[:8])
    conversation = _conversation()
    crashed = asyncio.run(store._acquire_in_redis(conversation, 0.4, 1))  # a server that died holding it
    assert crashed is not None
    order: List[str] = []

    async def later(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            order.append(name)
            await asyncio.sleep(0.01)

    started = time.monotonic()

    async def main() -> None:
        await asyncio.gather(later("second", 0.0), later("third", 0.05), later("fourth", 0.1))

    asyncio.run(main())
    waited = time.monotonic() - started
    assert order == ["second", "third", "fourth"]
    assert 0.3 <= waited < 3.0  # held until the crashed server's ticket expired, not for ever
    assert store.red.pttl(store.tickets_key(conversation)) == -2  # the hash is gone


def test_a_ticket_that_expired_while_waiting_is_an_error_not_a_free_pass() -> None:
    """A waiting message whose ticket is gone from the queue (its server stopped polling for a whole
    lifetime) fails; it never goes ahead of the message that holds the lock."""
    store = _store(6379, "lt" + uuid.uuid4().hex[:8])
    conversation = _conversation()

    async def main() -> None:
        holder, _ = await store._acquire_in_redis(conversation, 5, 1)
        waiting = asyncio.ensure_future(_turn(store, conversation))
        await asyncio.sleep(0.2)
        assert store.red.hdel(store.tickets_key(conversation), str(holder + 1)) == 1  # as if expired
        try:
            with pytest.raises(LockError):
                await waiting
        finally:
            store.cleanup(conversation, holder)

    asyncio.run(main())
    assert store.get_lock(conversation) is None


def test_a_message_waiting_for_a_crashed_servers_ticket_is_served_when_it_expires() -> None:
    """The crashed server's ticket and the next message's were issued within a poll of each other, with
    the same lifetime: the waiting message keeps its ticket alive while it polls, so it is served when
    the stale ticket expires instead of failing because its own expired in the same instant."""
    store = _store(6379, "lt" + uuid.uuid4().hex[:8])
    conversation = _conversation()

    async def main() -> float:
        await store._acquire_in_redis(conversation, 0.5, 1)  # never released
        started = time.monotonic()
        async with store.lock(conversation, lock_lifetime=0.5, wait_time_in_seconds=POLL_MAX_S):
            return time.monotonic() - started

    for _ in range(3):
        assert 0.4 <= asyncio.run(main()) < 3.0


def test_a_served_ticket_holds_the_lock_a_lifetime_from_when_it_was_served() -> None:
    """A message that waited most of its lifetime still holds the lock for a whole lifetime once
    served: the message after it does not enter while it is running."""
    store = _store(6379, "lt" + uuid.uuid4().hex[:8])
    conversation = _conversation()
    spans: List[tuple] = []

    async def message(name: str, delay: float, hold: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock(conversation, lock_lifetime=0.5, wait_time_in_seconds=0.02):
            entered = time.monotonic()
            await asyncio.sleep(hold)
            spans.append((name, entered, time.monotonic()))

    async def main() -> None:
        await store._acquire_in_redis(conversation, 0.4, 1)  # a crashed server's ticket
        # "second" waits ~0.4 s and holds 0.3 s: 0.7 s after its ticket was issued, 0.2 s past a
        # lifetime counted from the issue; "third" arrives while it holds.
        await asyncio.gather(message("second", 0.0, 0.3), message("third", 0.5, 0.0))

    asyncio.run(main())
    (first, _, first_left), (then, then_entered, _) = spans
    assert (first, then) == ("second", "third")
    assert then_entered >= first_left


def test_a_release_that_failed_while_redis_was_down_is_done_when_it_is_back(proxy: TcpProxy) -> None:
    """Redis goes down during a turn (the reply has gone, the release fails): the conversation's next
    message, once Redis is back, is served at once instead of waiting a lock lifetime for the stale
    ticket - and would fail if its own ticket expired first."""
    store, conversation = _store(proxy.port, "lt" + uuid.uuid4().hex[:8]), _conversation()
    direct = redis.Redis(db=DB)
    asyncio.run(_turn(store, conversation, proxy.cut))  # cut while held: the release fails
    assert [n for n, _ in _tickets_of(direct, store, conversation)] == [1]  # left in Redis
    asyncio.run(_turn(store, conversation))  # meanwhile in memory
    proxy.restore()
    started = time.monotonic()
    asyncio.run(_turn(store, conversation))
    assert time.monotonic() - started < 2.0  # the lifetime is 60 s
    assert not direct.exists(store.tickets_key(conversation))  # the stale ticket and this one released


def test_an_idle_replica_releases_its_kept_ticket_by_itself(proxy: TcpProxy) -> None:
    """The stale ticket is another replica's and that replica gets no message: it retries the release
    on its own, so the conversation moves on there within seconds."""
    prefix, conversation = "lt" + uuid.uuid4().hex[:8], _conversation()
    idle, busy = _store(proxy.port, prefix), _store(6379, prefix)  # busy reaches Redis directly

    async def main() -> float:
        await _turn(idle, conversation, proxy.cut)
        proxy.restore()
        started = time.monotonic()
        async with busy.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.05):
            return time.monotonic() - started

    waited = asyncio.run(main())
    assert waited < 5.0  # idle's retry (every second), not the 60 s expiry
    assert not redis.Redis(db=DB).exists(busy.tickets_key(conversation))


def test_a_kept_release_is_dropped_once_its_ticket_has_expired(proxy: TcpProxy) -> None:
    """The hash went with its last ticket and numbering restarted at 1: releasing the old ticket 1 then
    would free someone else's lock."""
    prefix, conversation = "lt" + uuid.uuid4().hex[:8], _conversation()
    old, other = _store(proxy.port, prefix), _store(6379, prefix)

    async def held_while_cut() -> None:
        async with old.lock(conversation, lock_lifetime=0.3):
            proxy.cut()

    asyncio.run(held_while_cut())
    proxy.restore()
    time.sleep(0.5)  # the old ticket has expired, and its hash with it

    async def main() -> None:
        async with other.lock(conversation, lock_lifetime=30):
            assert [n for n, _ in _tickets_of(other.red, other, conversation)] == [1]  # number 1 again
            assert old._release_kept() == 0  # not released: it expired
            assert [n for n, _ in _tickets_of(other.red, other, conversation)] == [1]

    asyncio.run(main())
    assert not old._unreleased


def _tickets_of(client: "redis.Redis[bytes]", store: FallbackRedisLockStore, conversation: str) -> List[tuple]:
    return sorted(_tickets(client.hgetall(store.tickets_key(conversation))))
