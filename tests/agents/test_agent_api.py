"""The agent API through the real servers: sign-in, queue, claim, packet, reply, notes, hand back."""
from __future__ import annotations

import threading
import uuid
from typing import Any, Dict, List

import pytest
import requests

from bot.billing.handoffs import get_handoff, list_handoffs
from bot.billing.interactions import conversation_log
from tests.servers import Stack

pytestmark = pytest.mark.servers

ROUTES = [
    ("POST", "/api/logout"), ("GET", "/api/me"), ("POST", "/api/presence"), ("GET", "/api/handoffs"),
    ("POST", "/api/handoffs/HND-X/claim"), ("GET", "/api/handoffs/HND-X"), ("GET", "/api/handoffs/HND-X/transcript"),
    ("POST", "/api/handoffs/HND-X/reply"), ("POST", "/api/handoffs/HND-X/notes"),
    ("POST", "/api/handoffs/HND-X/resolve"), ("POST", "/api/handoffs/HND-X/handback"),
]


class AgentClient:
    def __init__(self, stack: Stack, username: str) -> None:
        self.base = stack.agent_url
        self.http = requests.Session()
        resp = self.http.post(self.base + "/api/login", json={"username": username, "password": stack.agent_password})
        assert resp.status_code == 200, resp.text
        self.csrf = resp.json()["csrf_token"]
        self.login_response = resp

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=30)

    def post(self, path: str, body: Dict[str, Any]) -> requests.Response:
        return self.http.post(self.base + path, json=body, headers={"X-CSRF-Token": self.csrf}, timeout=30)


def texts(replies: List[dict]) -> str:
    return " ".join(r.get("text", "") for r in replies)


def escalate_tom(stack: Stack) -> tuple:
    me = "tom-" + uuid.uuid4().hex[:8]
    for message in ("I'm disputing the $2,500 equipment charge on my bill", "ACC-1004", "73301"):
        stack.say(me, message)
    (handoff,) = list_handoffs(conversation_id=me, database_url=stack.database_url)
    return me, handoff


@pytest.mark.parametrize("method,path", ROUTES)
def test_every_route_refuses_anonymous_requests(stack: Stack, method: str, path: str) -> None:
    resp = requests.request(method, stack.agent_url + path, json={}, timeout=30)
    assert resp.status_code == 401


def test_sign_in_sets_an_httponly_strict_cookie_and_needs_the_csrf_token(stack: Stack) -> None:
    assert requests.post(stack.agent_url + "/api/login", json={"username": "alex", "password": "wrong-password"},
                         timeout=30).status_code == 401
    assert requests.post(stack.agent_url + "/api/login", data="not json", timeout=30).status_code == 400
    agent = AgentClient(stack, "alex")
    cookie = agent.login_response.headers["Set-Cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert agent.get("/api/me").json()["username"] == "alex"
    no_csrf = agent.http.post(stack.agent_url + "/api/presence", json={"online": True}, timeout=30)
    assert no_csrf.status_code == 403
    forged = requests.get(stack.agent_url + "/api/me", cookies={"agent_session": "eyJhbGciOiJub25lIn0.e30."},
                          timeout=30)
    assert forged.status_code == 401


def test_bad_input_gets_4xx(stack: Stack) -> None:
    agent = AgentClient(stack, "alex")
    assert agent.post("/api/presence", {"online": "yes"}).status_code == 400
    assert agent.post("/api/handoffs/HND-NOPE/claim", {}).status_code == 404
    assert agent.get("/api/handoffs?status=bogus").status_code == 400
    raw = agent.http.post(stack.agent_url + "/api/handoffs/HND-NOPE/reply", data=b"\xff\xfe",
                          headers={"X-CSRF-Token": agent.csrf, "Content-Type": "application/json"}, timeout=30)
    assert 400 <= raw.status_code < 500


def test_two_agents_claiming_at_once_exactly_one_wins(stack: Stack) -> None:
    _, handoff = escalate_tom(stack)
    alex, sam = AgentClient(stack, "alex"), AgentClient(stack, "sam")
    results: Dict[str, int] = {}
    barrier = threading.Barrier(2)

    def claim(name: str, client: AgentClient) -> None:
        barrier.wait()
        results[name] = client.post(f"/api/handoffs/{handoff.reference}/claim", {}).status_code

    threads = [threading.Thread(target=claim, args=a) for a in (("alex", alex), ("sam", sam))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    winner = next(n for n, code in results.items() if code == 200)
    assert get_handoff(handoff.reference, database_url=stack.database_url).assigned_agent == winner


def test_tom_escalates_an_agent_replies_and_hands_back(stack: Stack) -> None:
    me, handoff = escalate_tom(stack)
    agent = AgentClient(stack, "alex")
    assert agent.post("/api/presence", {"online": True}).json()["online"] is True

    queue = agent.get("/api/handoffs").json()["handoffs"]
    refs = [h["reference"] for h in queue]
    assert handoff.reference in refs
    entry = next(h for h in queue if h["reference"] == handoff.reference)
    assert entry["reason_code"] == "authority" and entry["amount"] == "2500.00"
    assert [h["priority"] for h in queue] == sorted((h["priority"] for h in queue), reverse=True)

    # Not claimed yet: no replies.
    assert agent.post(f"/api/handoffs/{handoff.reference}/reply", {"text": "hi"}).status_code == 409
    assert agent.post(f"/api/handoffs/{handoff.reference}/claim", {}).status_code == 200

    # The customer writes while paused: no bot answer, and the agent sees it.
    assert stack.say(me, "is anyone there? it's about the equipment charge") == []
    detail = agent.get(f"/api/handoffs/{handoff.reference}").json()
    packet = detail["packet"]
    assert packet["customer"]["name"] == "Tom Becker" and packet["customer"]["account_number"] == "ACC-1004"
    assert any(i["number"] == "INV-0455" for i in packet["invoices"])
    assert packet["reason_code"] == "authority" and packet["suggested_next_step"]
    assert packet["channel"] == "rest"
    assert any("$2,500" in line["text"] for line in packet["transcript"] if line["actor"] == "customer")
    assert detail["transcript"][-1] == {**detail["transcript"][-1], "actor": "customer",
                                        "text": "is anyone there? it's about the equipment charge"}

    # The agent's reply reaches the REST customer: with their next message, or by polling the outbox.
    reply = "Hi Tom, I'm Alex from billing. I'm looking at the $2,500.00 equipment charge now."
    assert agent.post(f"/api/handoffs/{handoff.reference}/reply", {"text": reply}).status_code == 200
    polled = requests.get(stack.base_url + "/webhooks/rest/outbox", params={"sender": me}, timeout=30).json()
    assert [m["text"] for m in polled] == [reply]
    second = "I've found the problem and I'm correcting it."
    agent.post(f"/api/handoffs/{handoff.reference}/reply", {"text": second})
    assert texts(stack.say(me, "ok thanks")) == second

    note = agent.post(f"/api/handoffs/{handoff.reference}/notes", {"text": "Equipment was returned in March."})
    assert note.json()["packet"]["notes"][-1]["text"] == "Equipment was returned in March."

    back = agent.post(f"/api/handoffs/{handoff.reference}/handback",
                      {"summary": "I've removed the equipment charge.", "outcome": "resolved_corrected"})
    assert back.status_code == 200 and back.json()["status"] == "handed_back"
    handed = texts(requests.get(stack.base_url + "/webhooks/rest/outbox", params={"sender": me}, timeout=30).json())
    assert "removed the equipment charge" in handed and "assistant" in handed
    tracker = stack.tracker(me)
    assert tracker["paused"] is False
    # The bot answers again.
    assert "bot, not a person" in texts(stack.say(me, "am I talking to a bot?"))
    logged = [i for i in conversation_log(me, database_url=stack.database_url) if i.actor == "agent"]
    assert any(reply == i.text for i in logged)


def test_resolve_needs_a_known_outcome(stack: Stack) -> None:
    _, handoff = escalate_tom(stack)
    agent = AgentClient(stack, "sam")
    agent.post(f"/api/handoffs/{handoff.reference}/claim", {})
    assert agent.post(f"/api/handoffs/{handoff.reference}/resolve", {"outcome": "whatever"}).status_code == 400
    done = agent.post(f"/api/handoffs/{handoff.reference}/resolve", {"outcome": "resolved_explained"})
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert get_handoff(handoff.reference, database_url=stack.database_url).outcome == "resolved_explained"


def test_agent_sets_up_a_payment_plan_with_agent_authority_once(fresh_ledger: Stack) -> None:
    from decimal import Decimal

    from bot.billing import lookup

    stack = fresh_ledger
    me = "priya-" + uuid.uuid4().hex[:8]
    for message in ("I need a payment plan", "ACC-1003", "60614", "I want to talk to a human",
                    "let me speak to a real person"):
        stack.say(me, message)
    (handoff,) = list_handoffs(conversation_id=me, database_url=stack.database_url)
    agent = AgentClient(stack, "sam")
    assert agent.post(f"/api/handoffs/{handoff.reference}/claim", {}).status_code == 200
    assert agent.post(f"/api/handoffs/{handoff.reference}/payment-plans",
                      {"installments": 12, "idempotency_key": "k0"}).status_code == 409  # outside policy
    first = agent.post(f"/api/handoffs/{handoff.reference}/payment-plans", {"installments": 4, "idempotency_key": "k1"})
    again = agent.post(f"/api/handoffs/{handoff.reference}/payment-plans", {"installments": 4, "idempotency_key": "k1"})
    assert first.status_code == 200 and again.json()["replayed"] is True
    assert first.json()["reference"] == again.json()["reference"]
    (plan,) = lookup.list_payment_plans("ACC-1003", database_url=stack.database_url)
    assert plan.total_amount == Decimal("1240.00") and len(plan.installments) == 4
