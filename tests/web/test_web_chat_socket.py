"""The socket.io channel with a real socket.io client: login tokens checked, agent replies delivered."""
from __future__ import annotations

import queue
import time
import uuid
from datetime import timedelta
from typing import Any, Dict, List

import jwt
import pytest
import socketio

from bot.billing.handoffs import list_handoffs
from bot.channels import customer_token
from tests.agents.test_agent_api import AgentClient
from tests.servers import Stack

pytestmark = pytest.mark.servers


class Customer:
    def __init__(self, stack: Stack, token: str = "") -> None:
        self.inbox: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self.session = uuid.uuid4().hex
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.inbox.put)
        self.client.connect(stack.base_url, transports=["websocket"], socketio_path="/socket.io",
                            auth={"token": token} if token else {}, wait_timeout=30)
        confirmed: "queue.Queue[str]" = queue.Queue()
        self.client.on("session_confirm", confirmed.put)
        self.client.emit("session_request", {"session_id": self.session})
        assert confirmed.get(timeout=30) == self.session

    def say(self, text: str, wait: float = 30.0, settle: float = 1.5) -> List[str]:
        self.client.emit("user_uttered", {"message": text, "session_id": self.session,
                                          "metadata": {"customer_token": "forged", "phone": "+14155550101"}})
        return self.read(wait, settle)

    def read(self, wait: float = 30.0, settle: float = 1.5) -> List[str]:
        texts = [self.inbox.get(timeout=wait).get("text", "")]
        while True:
            try:
                texts.append(self.inbox.get(timeout=settle).get("text", ""))
            except queue.Empty:
                return texts

    def close(self) -> None:
        self.client.disconnect()


def secret(stack: Stack) -> str:
    return stack.env["WEB_JWT_SECRET"]


def refused(stack: Stack, token: str) -> bool:
    try:
        Customer(stack, token).close()
    except socketio.exceptions.ConnectionError:
        return True
    return False


def test_forged_and_expired_tokens_are_refused(stack: Stack) -> None:
    forged = jwt.encode({"sub": "ACC-1001", "aud": customer_token.AUDIENCE, "exp": time.time() + 600},
                        "not-the-real-key-0123456789", algorithm="HS256")
    expired = customer_token.issue("ACC-1001", key=secret(stack), lifetime=timedelta(seconds=-5))
    assert refused(stack, forged) and refused(stack, expired) and refused(stack, "garbage")
    assert not refused(stack, customer_token.issue("ACC-1001", key=secret(stack)))


def test_metadata_from_the_browser_cannot_verify_an_anonymous_visitor(stack: Stack) -> None:
    visitor = Customer(stack)
    try:
        replies = " ".join(visitor.say("I was charged twice"))
        assert "confirm it's you" in replies and "Maria" not in replies
    finally:
        visitor.close()


def test_an_agent_reply_reaches_a_website_customer_live(stack: Stack) -> None:
    me = Customer(stack, customer_token.issue("ACC-1006", key=secret(stack)))
    try:
        first = " ".join(me.say("I want to talk to a human"))
        assert "connect you now" in first
        handed = " ".join(me.say("yes, a real person please"))
        (handoff,) = list_handoffs(conversation_id=me.session, database_url=stack.database_url)
        assert handoff.reference in handed
        assert handoff.context["channel"] == "socketio"
        agent = AgentClient(stack, "sam")
        assert agent.post(f"/api/handoffs/{handoff.reference}/claim", {}).status_code == 200
        assert agent.post(f"/api/handoffs/{handoff.reference}/reply",
                          {"text": "Hi, this is Sam from billing."}).status_code == 200
        assert me.read() == ["Hi, this is Sam from billing."]
    finally:
        me.close()
