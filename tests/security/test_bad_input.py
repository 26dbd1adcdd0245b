"""Bad input on every webhook and API of the running servers gets a 4xx or a polite reply, never a 500 or
a crash: the REST webhook, the Twilio webhook, the socket.io events, the agent API and both sign-ins.
Fixed nasty examples for each, then property-based tests (hypothesis) over the webhooks."""
from __future__ import annotations

import json
import queue
import uuid
from typing import Any, Dict, Optional

import pytest
import requests
import socketio
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.fakes.twilio_api import inbound_sms_params, signed_request
from tests.security.test_authorization import WebClient
from tests.servers import Stack

pytestmark = pytest.mark.servers

NASTY_TEXTS = [
    "", " ", "\x00", "a" * 10_000, "🙂" * 3000, "مرحبا، فاتورتي خاطئة", "\u202eINV-0142\u202c", "ｉｎｖｏｉｃｅ",
    "'; DROP TABLE invoices; --", "\" OR 1=1 --", "ACC-1001' OR '1'='1", "INV-0142; DELETE FROM payments",
    "{{7*7}} ${jndi:ldap://x}", "<script>alert(1)</script>", "/restart", "/session_start", "//", "/",
    '/inform{"offer_id": "refund:INV-0207"', "\ud83d", "\r\n\r\n", "%00%0a", "\\x41" * 100,
]
NASTY_BODIES = [
    b"", b"{", b"null", b"[]", b"42", b'"text"', b"{\"sender\": \"x\"", bytes(range(256)), b"\xff\xfe\x00",
    b'{"sender": 5, "message": "hi"}', b'{"sender": "", "message": "hi"}', b'{"sender": "x", "message": null}',
    b'{"sender": "x", "message": ["hi"]}', b'{"sender": "+14155550101", "message": "hi"}',
    b'{"sender": "' + b"s" * 10_000 + b'", "message": "hi"}', b'{"sender": "x", "message": "' + b"m" * 10_000 + b'"}',
    b"sender=x&message=hi", b"<xml/>", b'{"sender": {"$ne": null}, "message": "hi"}',
]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                 "application/octet-stream", "", "application/json; charset=latin-1"]
HYPOTHESIS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=60),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12)


def send(method: str, url: str, body: bytes, content_type: str, **kw: Any) -> requests.Response:
    headers = dict(kw.pop("headers", {}))
    if content_type:
        headers["Content-Type"] = content_type
    return requests.request(method, url, data=body, headers=headers, timeout=90, **kw)


def assert_handled(resp: requests.Response, what: str) -> None:
    assert resp.status_code < 500, f"{what}: {resp.status_code} {resp.text[:300]}"
    if resp.status_code == 200 and resp.headers.get("content-type", "").startswith("application/json"):
        resp.json()  # a 200 is well-formed


def agent_session(stack: Stack) -> requests.Session:
    http = requests.Session()
    resp = http.post(stack.agent_url + "/api/login", json={"username": "sam", "password": stack.agent_password})
    assert resp.status_code == 200
    http.headers["X-CSRF-Token"] = resp.json()["csrf_token"]
    return http


# --- fixed examples -------------------------------------------------------------------------------
def test_rest_webhook_nasty_bodies_and_content_types(stack: Stack) -> None:
    url = stack.base_url + "/webhooks/rest/webhook"
    for body in NASTY_BODIES:
        for content_type in CONTENT_TYPES:
            resp = send("POST", url, body, content_type)
            assert_handled(resp, f"REST {body[:40]!r} as {content_type!r}")
            expected = 400 if "json" in content_type else 415
            assert resp.status_code == expected, (body[:40], content_type, resp.status_code)
    resp = requests.post(url, json={"sender": "meta-" + uuid.uuid4().hex[:6], "message": "hi", "metadata": "notadict"},
                         timeout=90)
    assert resp.status_code == 200 and resp.json()
    for text in NASTY_TEXTS:
        resp = requests.post(url, json={"sender": "nasty-" + uuid.uuid4().hex[:8], "message": text}, timeout=90)
        assert_handled(resp, f"REST text {text[:30]!r}")
        if len(text) > 5_000:
            assert resp.status_code == 400 and "longer than" in resp.json()["error"]
        else:
            assert resp.status_code == 200 and isinstance(resp.json(), list)
    resp = requests.get(stack.base_url + "/webhooks/rest/outbox", params={"sender": "\x00" * 300}, timeout=30)
    assert resp.status_code == 400


def test_twilio_webhook_nasty_requests(stack: Stack) -> None:
    url = stack.base_url + "/webhooks/twilio_sms/webhook"
    for body in NASTY_BODIES:
        for content_type in CONTENT_TYPES:
            resp = send("POST", url, body, content_type, headers={"X-Twilio-Signature": "forged"})
            assert resp.status_code in (400, 403, 413, 415), (body[:40], content_type, resp.status_code)
    for text in NASTY_TEXTS:  # properly signed: Twilio itself delivering odd texts
        if text == "\ud83d":
            continue  # not encodable as UTF-8: Twilio cannot send it
        params = inbound_sms_params("+1206555" + str(uuid.uuid4().int)[:4], text)
        body, headers = signed_request(url, params)
        resp = requests.post(url, data=body, headers=headers, timeout=30)
        assert resp.status_code in (200, 400, 413), (text[:30], resp.status_code)
    params = inbound_sms_params("not-a-number", "hi")
    body, headers = signed_request(url, params)
    assert requests.post(url, data=body, headers=headers, timeout=30).status_code == 400


def test_agent_api_and_sign_ins_nasty_requests(stack: Stack) -> None:
    http = agent_session(stack)
    for body in NASTY_BODIES:
        for content_type in CONTENT_TYPES[:3]:
            for path in ("/api/login", "/site/api/session"):
                resp = send("POST", stack.agent_url + path, body, content_type)
                assert resp.status_code in (400, 401, 429), (path, body[:40], content_type, resp.status_code)
            for path in ("/api/handoffs/HND-1/reply", "/api/handoffs/HND-1/notes", "/api/presence",
                         "/api/handoffs/HND-1/resolve"):
                resp = http.post(stack.agent_url + path, data=body, headers={"Content-Type": content_type},
                                 timeout=30)
                assert resp.status_code in (400, 404, 409), (path, body[:40], content_type, resp.status_code)
    for text in NASTY_TEXTS:
        if text == "\ud83d":
            continue  # a lone surrogate cannot be put in a URL or JSON as UTF-8 at all
        resp = requests.post(stack.agent_url + "/site/api/session",
                             json={"account_number": text, "postal_code": text}, timeout=30)
        assert resp.status_code in (400, 401, 429), (text[:30], resp.status_code)
        resp = http.get(stack.agent_url + "/api/handoffs/" + requests.utils.quote(text[:500] or "x", safe=""),
                        timeout=30)
        assert resp.status_code in (400, 404), (text[:30], resp.status_code)


def test_socket_io_nasty_events_do_not_break_the_server(stack: Stack) -> None:
    me = WebClient(stack)
    errors: "queue.Queue[Any]" = queue.Queue()
    me.client.on("error_message", errors.put)
    try:
        for data in [None, 5, "text", [], {}, {"session_id": 5}, {"message": "hi"}, {"session_id": None, "message": 3},
                     {"session_id": "x" * 10_000, "message": "hi"}, {"session_id": me.session, "message": None}]:
            me.client.emit("user_uttered", data)
            me.client.emit("session_request", data)
        me.client.sleep(1.0)
        me.client.emit("session_request", {"session_id": me.session})  # back to our own conversation
        me.client.sleep(1.0)
        replies = [me.say(text, wait=90) for text in ("a" * 10_000, "'; DROP TABLE invoices; --", "🙂 مرحبا")]
        assert "too long" in replies[0]
        assert all(r.strip() for r in replies)  # every message got an answer: the server is fine
    finally:
        me.close()


# --- properties -----------------------------------------------------------------------------------
@HYPOTHESIS
@given(body=st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode()),
                      st.fixed_dictionaries({"sender": json_values, "message": json_values},
                                            optional={"metadata": json_values}).map(lambda v: json.dumps(v).encode())),
       content_type=st.sampled_from(CONTENT_TYPES))
def test_rest_webhook_property(stack: Stack, body: bytes, content_type: str) -> None:
    assert_handled(send("POST", stack.base_url + "/webhooks/rest/webhook", body, content_type), "REST")


@HYPOTHESIS
@given(fields=st.dictionaries(st.sampled_from(["From", "Body", "MessageSid", "NumMedia", "To", "Other"]),
                              st.text(max_size=40), max_size=6),
       signed=st.booleans())
def test_twilio_webhook_property(stack: Stack, fields: Dict[str, str], signed: bool) -> None:
    url = stack.base_url + "/webhooks/twilio_sms/webhook"
    body, headers = signed_request(url, fields) if signed else (json.dumps(fields).encode(), {"Content-Type": "x/y"})
    resp = requests.post(url, data=body, headers=headers, timeout=30)
    assert resp.status_code in (200, 400, 403, 413, 415), resp.status_code


@HYPOTHESIS
@given(body=json_values, path=st.sampled_from(["/api/login", "/site/api/session", "/api/handoffs/HND-1/reply",
                                               "/api/presence", "/api/handoffs/HND-1/claim"]))
def test_agent_api_property(stack: Stack, body: Any, path: str) -> None:
    resp = requests.post(stack.agent_url + path, json=body, timeout=30)
    assert resp.status_code in (400, 401, 403, 429), (path, resp.status_code, resp.text[:200])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(event=st.sampled_from(["user_uttered", "session_request", "unknown_event"]), data=json_values)
def test_socket_io_property(stack: Stack, event: str, data: Optional[Any]) -> None:
    client = socketio.Client(reconnection=False)
    client.connect(stack.base_url, transports=["websocket"], socketio_path="/socket.io", wait_timeout=30)
    try:
        client.emit(event, data)
        client.sleep(0.05)
        assert client.connected
    finally:
        client.disconnect()


def test_servers_are_still_up_after_the_bad_input(stack: Stack) -> None:
    assert stack.proc.poll() is None
    assert requests.get(stack.base_url + "/webhooks/rest/", timeout=30).json() == {"status": "ok"}
    assert requests.get(stack.agent_url + "/health", timeout=30).status_code == 200
    assert stack.texts("after-bad-input-" + uuid.uuid4().hex[:6], "hello")
