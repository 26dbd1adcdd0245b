"""Faults against the real servers in the production configuration: money exactly once under retries,
concurrent confirmations and a crash between the commit and the reply; the action server, the billing
database, Redis and RabbitMQ going away and coming back; Rasa restarted mid-conversation. In every
case the customer gets an answer (an honest one when something is down), nothing is lost from the
tracker, the analytics store or the ledger, and the conversation carries on with its state."""
from __future__ import annotations

import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import psycopg2
import pytest

from bot.analytics.store import load_events
from bot.billing import lookup
from bot.billing.faults import CRASH_EXIT_CODE
from bot.channels import customer_token
from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, FakeTwilioApi, inbound_sms_params, \
    signed_request
from tests.faults.harness import FaultStack, start_fault_stack
from tests.web.test_web_chat_socket import Customer

pytestmark = [pytest.mark.servers, pytest.mark.postgres]


@pytest.fixture(scope="module")
def fs(tmp_path_factory: pytest.TempPathFactory, twilio_api: FakeTwilioApi) -> Iterator[FaultStack]:
    stack = start_fault_stack(tmp_path_factory.mktemp("faults"), {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_NUMBER": TWILIO_NUMBER,
        "TWILIO_API_BASE_URL": twilio_api.url, "TWILIO_PUBLIC_URL": "",
        # actions in worker threads (actions/guard.py): the duplicate confirmations below then really
        # run at the same moment, and a turn waiting for a row does not stall the others
        "ACTION_WORKER_THREADS": "2"})
    yield stack
    stack.shutdown()


def me(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def users(fs: FaultStack, sender: str) -> List[str]:
    return [e["text"] for e in fs.tracker(sender)["events"] if e["event"] == "user"]


def audit_rows(fs: FaultStack, invoice: str) -> List[tuple]:
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=fs.billing_db)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT a.action, a.reference, a.idempotency_key, a.amount FROM audit_log a "
                        "JOIN invoices i ON i.id = a.invoice_id WHERE i.number = %s ORDER BY a.id", (invoice,))
            return cur.fetchall()
    finally:
        conn.close()


def verified_priya(fs: FaultStack) -> str:
    sender = me("priya")
    for text in ("is my bill overdue?", "ACC-1003"):
        fs.say(sender, text)
    assert "$1,240.00" in fs.text(sender, "60614")
    return sender


def test_concurrent_duplicate_yes_and_retried_webhook_refund_once(fs: FaultStack) -> None:
    sender = me("maria")
    fs.say(sender, "I was charged twice this month")
    fs.say(sender, "INV-0142")
    assert "That's our mistake" in fs.text(sender, "maria.lopez@example.com")
    assert fs.text(sender, '/inform{"offer_id": "refund:INV-0142"}').startswith("To confirm: I'll refund $49.00")
    # The same "yes" twice at the same moment, on two connections (a double tap, a retried webhook).
    answers: Dict[int, str] = {}
    start = threading.Barrier(2)

    def yes(i: int) -> None:
        start.wait()
        answers[i] = fs.text(sender, "yes")

    threads = [threading.Thread(target=yes, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refunds = [c for c in lookup.list_corrections("ACC-1001", database_url=fs.database_url) if c.kind == "refund"]
    assert len(refunds) == 1, refunds
    ref = refunds[0].reference
    assert all(ref in a for a in answers.values()), answers  # both customers' replies name the one refund
    assert sum("Done. I've issued a refund of $49.00" in a for a in answers.values()) == 1, answers
    assert sum("already done, so nothing has changed" in a for a in answers.values()) == 1, answers
    # A client retrying the whole webhook later replays the same reference.
    assert ref in fs.text(sender, "yes")
    assert len([c for c in lookup.list_corrections("ACC-1001", database_url=fs.database_url)
                if c.kind == "refund"]) == 1
    assert users(fs, sender).count("yes") == 3  # every delivery is in the tracker, in order


def post_sms(fs: FaultStack, params: Dict[str, str]) -> int:
    url = fs.base_url + "/webhooks/twilio_sms/webhook"
    body, headers = signed_request(url, params)
    with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=60) as resp:
        return resp.status


def sms_containing(api: FakeTwilioApi, to: str, needle: str, seen: int, timeout: float = 60) -> List[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = api.bodies_to(to)[seen:]
        if any(needle in b for b in new):
            time.sleep(1.5)  # the rest of this turn's messages
            return api.bodies_to(to)[seen:]
        time.sleep(0.2)
    raise AssertionError(f"no SMS with {needle!r}: {api.bodies_to(to)[seen:]}")


def test_twilio_retry_delivered_twice_at_once_refunds_once(fs: FaultStack, twilio_api: FakeTwilioApi) -> None:
    aisha = "+12065550105"  # her number on file
    seen = len(twilio_api.bodies_to(aisha))
    assert post_sms(fs, inbound_sms_params(aisha, "I cancelled last month and you still billed me $79")) == 200
    offer = " ".join(sms_containing(twilio_api, aisha, "INV-0501", seen))
    sent = 1
    if "go ahead" not in offer:
        seen = len(twilio_api.bodies_to(aisha))
        assert post_sms(fs, inbound_sms_params(aisha, "refund please")) == 200
        offer = " ".join(sms_containing(twilio_api, aisha, "go ahead", seen))
        sent += 1
    assert "$79.00" in offer
    assert len(users(fs, aisha)) == sent
    seen, before = len(twilio_api.bodies_to(aisha)), sent
    params = inbound_sms_params(aisha, "yes")  # one MessageSid, delivered twice at the same moment
    statuses: List[Optional[int]] = [None, None]
    start = threading.Barrier(2)

    def deliver(i: int) -> None:
        start.wait()
        statuses[i] = post_sms(fs, params)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    done = sms_containing(twilio_api, aisha, "REF-", seen)
    time.sleep(3)  # a second answer, if there were one, would have arrived by now
    refunds = [c for c in lookup.list_corrections("ACC-1005", database_url=fs.database_url)
               if c.invoice_number == "INV-0501" and c.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].reference in " ".join(done)
    answered = twilio_api.bodies_to(aisha)[seen:]
    assert sum("Done. I've issued a refund of $79.00" in b for b in answered) == 1, answered  # answered once
    assert not any("already done" in b for b in answered), answered
    assert len(users(fs, aisha)) == before + 1  # the retry never reached the conversation


def test_crash_between_commit_and_reply_replays_the_same_reference(fs: FaultStack) -> None:
    sender = me("james")
    fs.say(sender, "there's a late fee on my bill I shouldn't pay")
    fs.say(sender, "INV-0207")
    assert "$25.00" in fs.text(sender, "10001")
    fs.stop("actions")
    fs.start_actions(BILLING_FAULT_CRASH_AFTER_COMMIT="1")  # test-only: exit right after a money commit
    try:
        crashed = fs.text(sender, "yes")
        assert fs.wait_exit("actions") == CRASH_EXIT_CODE
    finally:
        fs.stop("actions")
        fs.start_actions()  # restarted normally
    assert crashed == TROUBLE_REACHING_ACCOUNT  # not silence, and no false claim either way
    reversals = [c for c in lookup.list_corrections("ACC-1002", database_url=fs.database_url)
                 if c.invoice_number == "INV-0207"]
    assert len(reversals) == 1 and reversals[0].amount == 25  # committed before the crash
    ref = reversals[0].reference
    again = fs.text(sender, "yes")  # the customer says yes again after the restart
    assert "already done, so nothing has changed" in again and ref in again, again
    assert len([c for c in lookup.list_corrections("ACC-1002", database_url=fs.database_url)
                if c.invoice_number == "INV-0207"]) == 1
    rows = audit_rows(fs, "INV-0207")
    actions = [row[0] for row in rows]
    # The audit trail is complete: the dispute, the one reversal, and the outcome the retry finished.
    assert [actions.count(a) for a in ("dispute_opened", "fee_reversal", "dispute_resolved")] == [1, 1, 1], actions
    assert actions.index("dispute_opened") < actions.index("fee_reversal") < actions.index("dispute_resolved")
    assert [row[1] for row in rows if row[0] == "fee_reversal"] == [ref]
    assert users(fs, sender)[-2:] == ["yes", "yes"]


def test_action_server_down_gets_an_honest_reply_and_the_conversation_resumes(fs: FaultStack) -> None:
    sender = verified_priya(fs)
    signed_in = Customer(fs, customer_token.issue("ACC-1003", key=fs.env["WEB_JWT_SECRET"]))  # web chat
    try:
        assert "$1,240.00" in " ".join(signed_in.say("what's my balance?"))
        fs.stop("actions", kill=True)
        try:
            assert fs.text(sender, "what's my balance?") == TROUBLE_REACHING_ACCOUNT
            assert signed_in.say("what's my balance?") == [TROUBLE_REACHING_ACCOUNT]
        finally:
            fs.start_actions()
        assert "$1,240.00" in " ".join(signed_in.say("what's my balance?"))
    finally:
        signed_in.close()
    assert "$1,240.00" in fs.text(sender, "what's my balance?")  # still verified: state kept
    assert users(fs, sender)[-2:] == ["what's my balance?", "what's my balance?"]


def test_billing_database_down_gets_an_honest_reply_and_the_conversation_resumes(fs: FaultStack) -> None:
    sender = verified_priya(fs)
    fs.pg.cut()
    try:
        assert fs.text(sender, "what's my balance?") == TROUBLE_REACHING_ACCOUNT
    finally:
        fs.pg.restore()
    # The action itself answered (its reply is in the tracker), not only the channel's last resort.
    bots = [e.get("text") for e in fs.tracker(sender)["events"] if e["event"] == "bot"]
    assert bots[-1] == TROUBLE_REACHING_ACCOUNT
    assert "$1,240.00" in fs.text(sender, "what's my balance?")
    assert fs.tracker(sender)["slots"]["verified"] is True


def lock_waits(fs: FaultStack) -> int:
    """Sessions of the billing database waiting for a row lock."""
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                        (fs.billing_db,))
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_an_action_waiting_for_the_database_does_not_hold_up_other_conversations(fs: FaultStack) -> None:
    """Liam's verification waits for a row another transaction holds; Priya is verified and told her
    balance meanwhile (on the action server's event loop she would wait for Liam), then Liam's turn
    completes once the row is free."""
    liam = me("liam")
    fs.say(liam, "is my bill right?")
    fs.say(liam, "ACC-1006")
    replies: Dict[str, str] = {}
    holder = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=fs.billing_db)
    try:
        with holder.cursor() as cur:  # what Liam's turn writes refers to his row: it waits for this
            cur.execute("SELECT id FROM customers WHERE account_number = 'ACC-1006' FOR UPDATE")
        waiting = threading.Thread(target=lambda: replies.__setitem__("liam", fs.text(liam, "02134")))
        waiting.start()
        deadline = time.monotonic() + 30
        while lock_waits(fs) == 0:
            assert time.monotonic() < deadline and waiting.is_alive(), f"Liam's turn never waited: {replies}"
            time.sleep(0.1)
        other = threading.Thread(target=lambda: replies.__setitem__("priya", verified_priya(fs)))
        other.start()
        other.join(timeout=60)
        assert not other.is_alive(), "Priya's conversation waited for Liam's database row"
        assert "priya" in replies and waiting.is_alive() and lock_waits(fs) >= 1
    finally:
        holder.rollback()
        holder.close()
    waiting.join(timeout=60)
    assert "Thank you, Liam — you're verified." in replies.get("liam", ""), replies
    assert users(fs, liam) == ["is my bill right?", "ACC-1006", "02134"]


def test_redis_down_messages_are_still_answered_and_stored(fs: FaultStack) -> None:
    sender = verified_priya(fs)
    fs.redis.cut()
    try:
        assert "$1,240.00" in fs.text(sender, "what's my balance?")
        assert "locking conversations in this server's memory" in fs.log("rasa")
    finally:
        fs.redis.restore()
    assert "$1,240.00" in fs.text(sender, "what's my balance?")
    assert users(fs, sender)[-2:] == ["what's my balance?", "what's my balance?"]


def test_rabbitmq_down_events_reach_analytics_after_recovery(fs: FaultStack) -> None:
    sender = me("priya-mq")
    fs.rabbit.cut()
    try:
        for text in ("is my bill overdue?", "ACC-1003"):
            assert fs.say(sender, text)
        assert "$1,240.00" in fs.text(sender, "60614")
    finally:
        fs.rabbit.restore()
    assert "$1,240.00" in fs.text(sender, "what's my balance?")
    expected = len(fs.tracker(sender)["events"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stored = load_events(fs.analytics_url, [sender])
        if len(stored) >= expected:
            break
        time.sleep(1)
    texts = [e["text"] for e in stored if e["event"] == "user"]
    assert texts == ["is my bill overdue?", "ACC-1003", "60614", "what's my balance?"], texts
    assert len(stored) == expected, (len(stored), expected)


def test_rasa_restart_mid_conversation_keeps_its_state(fs: FaultStack) -> None:
    sender = me("maria-restart")
    fs.say(sender, "I was charged twice this month")
    fs.say(sender, "INV-0142")
    fs.say(sender, "maria.lopez@example.com")
    fs.stop("rasa")
    fs.start_rasa()
    reply = fs.text(sender, "what's my balance?")
    assert "Maria" in reply or "$" in reply, reply  # verified before the restart: no new questions
    assert fs.tracker(sender)["slots"]["account_number"] == "ACC-1001"
    assert users(fs, sender)[-2:] == ["maria.lopez@example.com", "what's my balance?"]
    assert Path(fs.work / "rasa.log").exists()
