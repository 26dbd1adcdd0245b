"""FallbackRedisLockStore against the real Redis, through a proxy the test cuts and restores."""
from __future__ import annotations

import asyncio
import uuid
from typing import Iterator

import pytest
import redis
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.resilience.lock_store import FallbackRedisLockStore
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
    asyncio.run(_turn(store, conversation, lambda: seen.append(direct.exists(store.key_prefix + conversation))))
    assert seen == [1]  # held in Redis during the turn, released after
    assert not direct.exists(store.key_prefix + conversation)

    proxy.cut()
    asyncio.run(_turn(store, conversation, lambda: seen.append(conversation in store._memory.conversation_locks)))
    assert seen[-1] is True and conversation not in store._memory.conversation_locks

    # Redis comes back in the middle of a turn that locked in memory: the turn ends cleanly.
    asyncio.run(_turn(store, conversation, proxy.restore))
    assert conversation not in store._memory.conversation_locks
    asyncio.run(_turn(store, conversation, lambda: seen.append(direct.exists(store.key_prefix + conversation))))
    assert seen[-1] == 1


def test_rasas_own_redis_lock_store_fails_when_redis_is_down(proxy: TcpProxy) -> None:
    """What the fallback is for: Rasa 3.6's store raises, and the message would be dropped."""
    store = RedisLockStore(host="127.0.0.1", port=proxy.port, db=DB, key_prefix="lt" + uuid.uuid4().hex[:8])
    proxy.cut()
    with pytest.raises(LockError):
        asyncio.run(_turn(store, "c-" + uuid.uuid4().hex[:6]))
