"""Rate limits per sender and per channel, on live Sanic servers with the real channel code (Rasa's agent
replaced by FakeRasa, so a small limit can be exhausted in a moment): REST answers 429 with Retry-After,
SMS sends one polite text per window; two channel instances on one counter store share the counts (two
replicas), in the SQLite file and in Redis."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Callable

import aiohttp
import pytest
import redis
from sanic import Sanic

from bot.channels import limits
from bot.channels.limits import POLITE_TEXT, RateLimiter, RedisCounter, SqliteCounter
from bot.channels.rest import RestChannel
from bot.channels.twilio_sms import TwilioSmsInput
from tests.channels.conftest import FakeRasa, start_app, stop_app
from tests.fakes.twilio_api import FakeTwilioApi, inbound_sms_params, signed_request

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def limited(monkeypatch: pytest.MonkeyPatch, per_sender: int, per_channel: int) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER_PER_MINUTE", str(per_sender))
    monkeypatch.setenv("RATE_LIMIT_PER_CHANNEL_PER_MINUTE", str(per_channel))
    monkeypatch.delenv("RATE_LIMIT_REDIS_URL", raising=False)
    monkeypatch.delenv("RATE_LIMIT_WINDOW_SECONDS", raising=False)


async def rest_app(state_db: str, rasa: FakeRasa) -> tuple:
    Sanic.test_mode = True
    channel = RestChannel(state_db)
    return (channel,) + await start_app(channel, rasa)


async def post(session: aiohttp.ClientSession, base: str, sender: str, message: str = "hi") -> tuple:
    async with session.post(base + "/webhooks/rest/webhook", json={"sender": sender, "message": message}) as resp:
        return resp.status, resp.headers.get("Retry-After"), await resp.json()


async def test_rest_sender_and_channel_limits_answer_429(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limited(monkeypatch, per_sender=3, per_channel=5)
    rasa = FakeRasa()
    channel, app, server, base = await rest_app(str(tmp_path / "channels.db"), rasa)
    try:
        async with aiohttp.ClientSession() as session:
            first = [await post(session, base, "alice") for _ in range(4)]
            assert [s for s, _, _ in first] == [200, 200, 200, 429]
            assert first[3][1] == "60" and "Too many messages" in first[3][2]["error"]
            assert first[0][2] == [{"recipient_id": "alice", "text": "You said: hi"}]
            # Bob has his own allowance, until the channel as a whole reaches 5 messages.
            others = [(await post(session, base, f"bob-{i}"))[0] for i in range(3)]
            assert others == [200, 200, 429]
        assert rasa.texts == ["hi"] * 5  # refused messages never reached the assistant
    finally:
        await stop_app(server)


async def test_sms_over_the_limit_gets_one_polite_text_and_stop_still_works(
        make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi, monkeypatch: pytest.MonkeyPatch) -> None:
    limited(monkeypatch, per_sender=2, per_channel=0)
    rasa = FakeRasa()
    channel = make_channel()
    app, server, base = await start_app(channel, rasa)
    phone = "+14155550177"
    try:
        async with aiohttp.ClientSession() as session:
            for text in ("one", "two", "three", "four", "five", "STOP"):
                data, headers = signed_request(base + "/webhooks/twilio_sms/webhook", inbound_sms_params(phone, text))
                async with session.post(base + "/webhooks/twilio_sms/webhook", data=data, headers=headers) as resp:
                    assert resp.status == 200
                await channel.wait_for_pending()
        assert rasa.texts == ["one", "two"]
        received = api.bodies_to(phone)
        assert received == ["You said: one", "You said: two", POLITE_TEXT]  # one polite text, then silence
        assert channel.store.is_opted_out(phone)  # STOP is honoured even over the limit
    finally:
        await stop_app(server)


def test_two_replicas_share_the_sqlite_counters(tmp_path: Path) -> None:
    path = str(tmp_path / "channels.db")
    replica_a = RateLimiter(SqliteCounter(path), per_sender=3, per_channel=4)
    replica_b = RateLimiter(SqliteCounter(path), per_sender=3, per_channel=4)
    verdicts = [replica_a.check("rest", "carol"), replica_b.check("rest", "carol"), replica_a.check("rest", "carol"),
                replica_b.check("rest", "carol"), replica_a.check("rest", "carol")]
    assert verdicts[:3] == [None, None, None]
    assert verdicts[3] == limits.Refusal(limits.SENDER, first=True)
    assert verdicts[4] == limits.Refusal(limits.SENDER, first=False)
    assert replica_b.check("rest", "dave") is None  # the channel's 4th counted message
    assert replica_a.check("rest", "erin") == limits.Refusal(limits.CHANNEL, first=True)
    assert replica_a.check("socketio", "erin") is None  # another channel, its own counts


def test_two_replicas_share_the_redis_counters() -> None:
    prefix = "test-ratelimit-" + uuid.uuid4().hex
    replica_a = RateLimiter(RedisCounter(REDIS_URL, prefix), per_sender=2, per_channel=0, window=2)
    replica_b = RateLimiter(RedisCounter(REDIS_URL, prefix), per_sender=2, per_channel=0, window=2)
    try:
        assert replica_a.check("twilio_sms", "+14155550111") is None
        assert replica_b.check("twilio_sms", "+14155550111") is None
        assert replica_a.check("twilio_sms", "+14155550111") == limits.Refusal(limits.SENDER, first=True)
        ttl = replica_a.counter.client.ttl(f"{prefix}:ratelimit:twilio_sms:sender:+14155550111")
        assert 0 < ttl <= 2
        time.sleep(2.2)  # the window that opened with the first message is over
        assert replica_b.check("twilio_sms", "+14155550111") is None
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


def test_a_window_reopens_after_it_ends(tmp_path: Path) -> None:
    limiter = RateLimiter(SqliteCounter(str(tmp_path / "c.db")), per_sender=1, per_channel=0, window=1)
    assert limiter.check("rest", "fay") is None
    assert limiter.check("rest", "fay") is not None
    time.sleep(1.1)
    assert limiter.check("rest", "fay") is None


def test_an_unreachable_redis_lets_customers_through() -> None:
    limiter = RateLimiter(RedisCounter("redis://127.0.0.1:1/0"), per_sender=1, per_channel=1)
    assert [limiter.check("rest", "gus") for _ in range(3)] == [None, None, None]


def test_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER_PER_MINUTE", "")
    assert limits.setting("RATE_LIMIT_PER_SENDER_PER_MINUTE") == 20
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER_PER_MINUTE", "lots")
    with pytest.raises(ValueError):
        limits.setting("RATE_LIMIT_PER_SENDER_PER_MINUTE")
    monkeypatch.setenv("RATE_LIMIT_PER_SENDER_PER_MINUTE", "-1")
    with pytest.raises(ValueError):
        limits.setting("RATE_LIMIT_PER_SENDER_PER_MINUTE")
