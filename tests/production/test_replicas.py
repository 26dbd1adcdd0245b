"""The production profile on this machine's PostgreSQL, Redis and RabbitMQ: two Rasa servers and two
action servers behind nginx. Messages of the same conversations go to different replicas in turn; no
event is lost or reordered in the tracker store, and every event reaches the RabbitMQ queue."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import psycopg2
import pytest
import redis

from bot.analytics.store import load_events
from tests.servers import PY, ROOT, free_port

pytestmark = [pytest.mark.servers, pytest.mark.postgres]
CONVERSATIONS = 4
SCRIPT = ["hi", "is my bill overdue?", "ACC-1003", "60614", "thanks", "bye"]


def _admin():
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


def _post(url: str, payload: dict) -> list:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read() or b"[]")


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    work = tmp_path_factory.mktemp("prod")
    tag = uuid.uuid4().hex[:10]
    billing_db, tracker_db, queue = f"prod_billing_{tag}", f"prod_tracker_{tag}", f"prod_events_{tag}"
    ports = {k: str(free_port()) for k in ("RASA_PORT", "ACTION_SERVER_PORT", "AGENT_PORT")}
    rasa_ports, action_ports = [free_port(), free_port()], [free_port(), free_port()]
    env = dict(os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false", RASA_API_TOKEN="prod-" + tag,
               RASA_HOST="127.0.0.1", ACTION_SERVER_HOST="127.0.0.1", AGENT_HOST="127.0.0.1", **ports,
               RASA_REPLICA_PORTS=",".join(map(str, rasa_ports)), ACTION_REPLICA_PORTS=",".join(map(str, action_ports)),
               PROD_DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{billing_db}",
               TRACKER_PG_HOST="127.0.0.1", TRACKER_PG_PORT="5432", TRACKER_PG_USER="postgres",
               TRACKER_PG_PASSWORD="", TRACKER_PG_DB=tracker_db, REDIS_HOST="127.0.0.1", REDIS_PORT="6379",
               REDIS_DB="3", REDIS_KEY_PREFIX="t" + tag, RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT="5672",
               RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest", RABBITMQ_QUEUE=queue,
               NGINX_DIR=str(work / "nginx"), CHANNEL_STATE_DB=str(work / "channels.db"), SEED_CUSTOMERS="20",
               AGENT_SESSION_SECRET="prod-session-secret-" + tag, WEB_JWT_SECRET="prod-web-secret-" + tag,
               AGENT_DEMO_PASSWORD="", LOG_LEVEL="INFO",
               ANALYTICS_DATABASE_URL=f"sqlite:///{work / 'analytics.db'}")
    log = open(work / "stack.log", "wb")
    proc = subprocess.Popen([PY, "scripts/stack.py", "run", "--profile", "prod", "--replicas", "2"], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    agent = f"http://127.0.0.1:{ports['AGENT_PORT']}/health"
    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((work / "stack.log").read_text()[-4000:])
        try:
            with urllib.request.urlopen(agent, timeout=2):
                break
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError((work / "stack.log").read_text()[-4000:])
    yield {"lb": f"http://127.0.0.1:{ports['RASA_PORT']}", "token": env["RASA_API_TOKEN"], "queue": queue,
           "replicas": [f"http://127.0.0.1:{p}" for p in rasa_ports], "billing_db": billing_db,
           "prefix": env["REDIS_KEY_PREFIX"], "log": str(work / "stack.log"),
           "analytics": env["ANALYTICS_DATABASE_URL"], "billing_url": env["PROD_DATABASE_URL"]}
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    conn = _admin()
    with conn.cursor() as cur:
        for name in (billing_db, tracker_db):
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
    redis.Redis(db=3).delete(*(redis.Redis(db=3).keys(env["REDIS_KEY_PREFIX"] + "*") or [b"none"]))
    asyncio.run(_delete_queue(queue))


async def _delete_queue(name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def _converse(prod: Dict[str, str], sender: str, errors: List[str]) -> None:
    try:
        for turn, text in enumerate(SCRIPT):
            replica = prod["replicas"][turn % len(prod["replicas"])]
            replies = _post(replica + "/webhooks/rest/webhook", {"sender": sender, "message": text})
            if not replies:
                errors.append(f"{sender}: no reply to {text!r} from {replica}")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(f"{sender}: {exc!r}")


def test_interleaved_turns_on_two_replicas_lose_and_reorder_nothing(prod: Dict[str, str]) -> None:
    senders = [f"replica-{i}-{uuid.uuid4().hex[:6]}" for i in range(CONVERSATIONS)]
    errors: List[str] = []
    threads = [threading.Thread(target=_converse, args=(prod, s, errors)) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for sender in senders:
        with urllib.request.urlopen(f"{prod['lb']}/conversations/{sender}/tracker?token={prod['token']}",
                                    timeout=30) as resp:
            events = json.loads(resp.read())["events"]
        users = [e["text"] for e in events if e["event"] == "user"]
        assert users == SCRIPT, (sender, users)
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps)
        kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
        assert all(kinds[i + 1] == "bot" for i, k in enumerate(kinds) if k == "user"), kinds  # each turn answered
        slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
        assert slots.get("account_number") == "ACC-1003" and slots.get("verified") is True
    # Every event reaches RabbitMQ and the analytics consumer. Two replicas publish independently, so
    # the queue's arrival order may interleave; each event's timestamp orders them.
    deadline = time.monotonic() + 60
    while True:
        published = load_events(prod["analytics"], senders)
        per_sender = {s: [e["text"] for e in published if e["sender_id"] == s and e["event"] == "user"]
                      for s in senders}
        if all(texts == SCRIPT for texts in per_sender.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert all(texts == SCRIPT for texts in per_sender.values()), per_sender
    report = subprocess.run([PY, "-m", "bot.analytics.report", "--analytics-url", prod["analytics"],
                             "--database-url", prod["billing_url"], "--out", str(Path(prod["log"]).parent / "report")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr[-2000:]
    figures = json.loads((Path(prod["log"]).parent / "report" / "summary.json").read_text())
    assert figures["conversations"] >= CONVERSATIONS
    assert (Path(prod["log"]).parent / "report" / "outcomes.png").stat().st_size > 0


def test_locks_live_in_redis_and_the_ledger_in_postgres(prod: Dict[str, str]) -> None:
    seen: List[str] = []
    stop = threading.Event()

    def monitor() -> None:
        with redis.Redis(db=3).monitor() as m:
            for command in m.listen():
                if prod["prefix"] in command.get("command", ""):
                    seen.append(command["command"])
                if stop.is_set():
                    return

    watcher = threading.Thread(target=monitor, daemon=True)
    watcher.start()
    time.sleep(0.5)
    sender = "lock-" + uuid.uuid4().hex[:6]
    assert _post(prod["lb"] + "/webhooks/rest/webhook", {"sender": sender, "message": "hi"})
    time.sleep(0.5)
    stop.set()
    redis.Redis(db=3).ping()  # one more command so the monitor loop wakes up and ends
    watcher.join(10)
    assert any(sender in c for c in seen), seen  # the conversation's lock was taken in Redis
    conn = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=prod["billing_db"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM customers WHERE account_number = 'ACC-1003'")
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
    assert "production profile: 2 Rasa servers" in Path(prod["log"]).read_text()
