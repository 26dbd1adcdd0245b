"""Rate limits and sign-in lockouts on the running servers, with their default settings (.env.example):
20 messages per sender per minute (REST 429, web chat a polite reply), 10 failed sign-ins per address and
name (console and website: 429, even with the right password), 300 agent API requests per agent."""
from __future__ import annotations

import queue
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.agents import accounts
from bot.channels.limits import POLITE_TEXT
from tests.security.test_authorization import WebClient
from tests.servers import Stack

pytestmark = pytest.mark.servers
PER_SENDER = 20  # RATE_LIMIT_PER_SENDER_PER_MINUTE's default
SIGN_IN_FAILURES = 10
AGENT_REQUESTS = 300


def test_rest_sender_over_the_limit_gets_429(stack: Stack) -> None:
    sender = "burst-" + uuid.uuid4().hex[:8]

    def post(_: int) -> requests.Response:
        return requests.post(stack.base_url + "/webhooks/rest/webhook", json={"sender": sender, "message": "hi"},
                             timeout=120)

    with ThreadPoolExecutor(max_workers=25) as pool:  # all arrive within the same minute
        responses = list(pool.map(post, range(PER_SENDER + 5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * PER_SENDER + [429] * 5
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.headers["Retry-After"] == "60" and "Too many messages" in r.json()["error"] for r in refused)
    # Another sender is not affected.
    assert requests.post(stack.base_url + "/webhooks/rest/webhook", json={"sender": sender + "-2", "message": "hi"},
                         timeout=120).status_code == 200


def test_web_chat_over_the_limit_gets_a_polite_reply(stack: Stack) -> None:
    me = WebClient(stack)
    try:
        for _ in range(PER_SENDER + 2):
            me.client.emit("user_uttered", {"message": "hello", "session_id": me.session})
        texts: list = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (texts.count(POLITE_TEXT) < 2 or len(texts) - 2 < PER_SENDER):
            try:
                texts.append(me.inbox.get(timeout=5).get("text", ""))
            except queue.Empty:
                pass
        time.sleep(2.0)  # nothing more may arrive: no third polite reply
        while not me.inbox.empty():
            texts.append(me.inbox.get_nowait().get("text", ""))
        assert texts.count(POLITE_TEXT) == 2
        assert len([t for t in texts if t != POLITE_TEXT]) >= PER_SENDER  # the 20 were answered
    finally:
        me.close()


def test_console_sign_in_locks_after_repeated_failures(stack: Stack) -> None:
    username = "lock-" + uuid.uuid4().hex[:6]
    password = "pw-" + uuid.uuid4().hex
    accounts.create_agent(username, "Lock Test", password, database_url=stack.database_url)
    login = stack.agent_url + "/api/login"
    wrong = [requests.post(login, json={"username": username, "password": "nope"}, timeout=30).status_code
             for _ in range(SIGN_IN_FAILURES)]
    assert wrong == [401] * SIGN_IN_FAILURES
    locked = requests.post(login, json={"username": username, "password": password}, timeout=30)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "60"
    assert "agent_session" not in locked.cookies
    # Other agents sign in as usual.
    other = requests.post(login, json={"username": "sam", "password": stack.agent_password}, timeout=30)
    assert other.status_code == 200


def test_website_sign_in_locks_after_repeated_failures(stack: Stack) -> None:
    engine = create_engine(stack.database_url, future=True)
    with engine.connect() as conn:  # a generated customer: no other test signs in as them
        account, postal = conn.execute(text("SELECT account_number, postal_code FROM customers "
                                            "WHERE account_number = 'ACC-2003'")).one()
    engine.dispose()
    url = stack.agent_url + "/site/api/session"
    wrong = [g for g in (f"{n:05d}" for n in range(SIGN_IN_FAILURES + 1)) if g != postal][:SIGN_IN_FAILURES]
    guesses = [requests.post(url, json={"account_number": account, "postal_code": guess}, timeout=30).status_code
               for guess in wrong]
    assert guesses == [401] * SIGN_IN_FAILURES
    locked = requests.post(url, json={"account_number": account, "postal_code": postal}, timeout=30)
    assert locked.status_code == 429 and "token" not in locked.json()


def test_agent_api_requests_are_limited_per_agent(stack: Stack) -> None:
    username = "busy-" + uuid.uuid4().hex[:6]
    password = "pw-" + uuid.uuid4().hex
    accounts.create_agent(username, "Busy Test", password, database_url=stack.database_url)
    http = requests.Session()
    resp = http.post(stack.agent_url + "/api/login", json={"username": username, "password": password}, timeout=30)
    assert resp.status_code == 200
    try:
        statuses = [http.get(stack.agent_url + "/api/me", timeout=30).status_code for _ in range(AGENT_REQUESTS + 1)]
        assert statuses[:AGENT_REQUESTS] == [200] * AGENT_REQUESTS and statuses[-1] == 429
        # Sam, signed in at the same time, is not affected.
        sam = requests.Session()
        sam.post(stack.agent_url + "/api/login", json={"username": "sam", "password": stack.agent_password}, timeout=30)
        assert sam.get(stack.agent_url + "/api/me", timeout=30).status_code == 200
    finally:
        accounts.set_presence(username, False, database_url=stack.database_url)
