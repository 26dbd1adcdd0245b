"""One Rasa server and one action server in the production configuration (PostgreSQL tracker store
and billing database, Redis lock store, RabbitMQ event broker, analytics consumer), each started and
stopped on its own, with PostgreSQL (billing), Redis and RabbitMQ reached through TcpProxy so a test
can take them away and bring them back without touching the machine's shared services."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import psycopg2

from tests.faults.proxy import TcpProxy
from tests.servers import PY, ROOT, free_port, seed

RASA = str(Path(PY).parent / "rasa")


def admin():  # type: ignore[no-untyped-def]
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


@dataclass
class FaultStack:
    work: Path
    tag: str
    pg: TcpProxy
    redis: TcpProxy
    rabbit: TcpProxy
    env: Dict[str, str]
    billing_db: str
    tracker_db: str
    queue: str
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.env['RASA_PORT']}"

    @property
    def database_url(self) -> str:
        """The billing database, reached directly (the tests' own view of the ledger)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{self.billing_db}"

    @property
    def analytics_url(self) -> str:
        return self.env["ANALYTICS_DATABASE_URL"]

    # --- processes ---------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: List[str], extra: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**self.env, **(extra or {})}, stdout=log,
                                stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def start_actions(self, **extra: str) -> None:
        port = self.env["ACTION_SERVER_PORT"]
        proc = self._spawn("actions", [RASA, "run", "actions", "--actions", "actions", "--port", port], extra)
        self._wait(f"http://127.0.0.1:{port}/health", proc, "actions", 120)

    def start_rasa(self) -> None:
        proc = self._spawn("rasa", [RASA, "run", "--enable-api", f"--auth-token={self.env['RASA_API_TOKEN']}",
                                    "--interface", "127.0.0.1", "--port", self.env["RASA_PORT"],
                                    "--endpoints", "endpoints.prod.yml", "--credentials", "credentials.yml",
                                    "--model", "models"])
        self._wait(f"{self.base_url}/status?token={self.env['RASA_API_TOKEN']}", proc, "rasa", 300)

    def start_consumer(self) -> None:
        # The analytics consumer reads RabbitMQ directly: the fault is between Rasa and RabbitMQ.
        self._spawn("consumer", [PY, "-m", "bot.analytics.consumer"], {"RABBITMQ_PORT": "5672"})

    def stop(self, name: str, kill: bool = False) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.kill() if kill else proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def wait_exit(self, name: str, timeout: float = 30) -> int:
        return self.procs[name].wait(timeout)

    def log(self, name: str) -> str:
        path = self.work / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait(self, url: str, proc: subprocess.Popen, name: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log(name)[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not come up:\n{self.log(name)[-3000:]}")

    # --- talking -----------------------------------------------------------------------------
    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        req = urllib.request.Request(f"{self.base_url}/webhooks/rest/webhook",
                                     data=json.dumps({"sender": sender, "message": message}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.loads(resp.read() or b"[]")

    def text(self, sender: str, message: str) -> str:
        return " ".join(m.get("text", "") for m in self.say(sender, message))

    def tracker(self, sender: str) -> Dict[str, Any]:
        url = f"{self.base_url}/conversations/{sender}/tracker?token={self.env['RASA_API_TOKEN']}&include_events=ALL"
        with urllib.request.urlopen(url, timeout=30) as resp:
            return json.loads(resp.read())

    def shutdown(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        for proxy in (self.pg, self.redis, self.rabbit):
            proxy.close()
        conn = admin()
        with conn.cursor() as cur:
            for name in (self.billing_db, self.tracker_db):
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        import redis

        client = redis.Redis(db=3)
        keys = client.keys(self.env["REDIS_KEY_PREFIX"] + "*")
        if keys:
            client.delete(*keys)
        asyncio.run(_delete_queue(self.queue))


async def _delete_queue(name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def start_fault_stack(work: Path, extra_env: Optional[Dict[str, str]] = None) -> FaultStack:
    if not list((ROOT / "models").glob("*.tar.gz")):
        raise RuntimeError("no trained model in models/: run `make train` first")
    tag = uuid.uuid4().hex[:10]
    billing_db, tracker_db, queue = f"faults_billing_{tag}", f"faults_tracker_{tag}", f"faults_events_{tag}"
    conn = admin()
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{billing_db}"')
        cur.execute(f'CREATE DATABASE "{tracker_db}"')
    conn.close()
    pg, red, rabbit = TcpProxy("127.0.0.1", 5432).start(), TcpProxy("127.0.0.1", 6379).start(), \
        TcpProxy("127.0.0.1", 5672).start()
    direct_billing = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{billing_db}"
    seed(direct_billing)
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), RASA_TELEMETRY_ENABLED="false", LOG_LEVEL="INFO",
        RASA_API_TOKEN="faults-" + tag, RASA_HOST="127.0.0.1", RASA_PORT=str(free_port()),
        ACTION_SERVER_HOST="127.0.0.1", SANIC_HOST="127.0.0.1", ACTION_SERVER_PORT=str(free_port()),
        # the action server reaches the billing database through the proxy
        DATABASE_URL=f"postgresql+psycopg2://postgres@127.0.0.1:{pg.port}/{billing_db}",
        TRACKER_PG_HOST="127.0.0.1", TRACKER_PG_PORT="5432", TRACKER_PG_USER="postgres", TRACKER_PG_PASSWORD="",
        TRACKER_PG_DB=tracker_db, REDIS_HOST="127.0.0.1", REDIS_PORT=str(red.port), REDIS_DB="3",
        REDIS_KEY_PREFIX="f" + tag, RABBITMQ_HOST="127.0.0.1", RABBITMQ_PORT=str(rabbit.port),
        RABBITMQ_USER="guest", RABBITMQ_PASSWORD="guest", RABBITMQ_QUEUE=queue,
        CHANNEL_STATE_DB=str(work / "channels.db"), WEB_JWT_SECRET="faults-web-" + tag,
        ANALYTICS_DATABASE_URL=f"sqlite:///{work / 'analytics.db'}", BILLING_FAULT_CRASH_AFTER_COMMIT="",
    )
    env.update(extra_env or {})
    env["ACTION_ENDPOINT_URL"] = f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}/webhook"
    stack = FaultStack(work=work, tag=tag, pg=pg, redis=red, rabbit=rabbit, env=env, billing_db=billing_db,
                       tracker_db=tracker_db, queue=queue)
    try:
        stack.start_actions()
        stack.start_rasa()
        stack.start_consumer()
    except Exception:
        stack.shutdown()
        raise
    return stack
