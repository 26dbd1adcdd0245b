"""Start the real action server and Rasa server for tests, on free loopback ports."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


_GIVEN: Set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, and never one this process was given before: the kernel can hand
    the same port to two binds in a row once the first socket is closed (two replicas were once given
    one port)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


@dataclass
class Stack:
    """A running action server + Rasa server with their own billing database and tracker store."""

    base_url: str
    token: str
    database_url: str
    env: Dict[str, str]
    proc: subprocess.Popen
    log_path: Path
    agent_url: str = ""
    agent_password: str = ""
    _counter: int = field(default=0)

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """Send a message over the REST channel and return the bot's replies."""
        return self.post("/webhooks/rest/webhook", {"sender": sender, "message": message})

    def texts(self, sender: str, message: str) -> List[str]:
        return [m.get("text", "") for m in self.say(sender, message)]

    def post(self, path: str, payload: Any, token: bool = False) -> Any:
        url = self.base_url + path + (f"?token={self.token}" if token else "")
        req = urllib.request.Request(
            url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def get(self, path: str, token: Optional[str] = None) -> Any:
        url = self.base_url + path + (f"?token={token}" if token else "")
        with urllib.request.urlopen(url, timeout=30) as resp:
            return json.loads(resp.read())

    def tracker(self, sender: str) -> Dict[str, Any]:
        return self.get(f"/conversations/{sender}/tracker", token=self.token)

    def reseed(self) -> None:
        """Recreate the billing database in place (demo data as new) for a test that needs it untouched."""
        seed(self.database_url, agent_password=self.agent_password)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def seed(database_url: str, customers: int = 20, agent_password: str = "") -> None:
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT), AGENT_DEMO_PASSWORD=agent_password)
    subprocess.run(
        [PY, "-m", "bot.billing.seed", "--reset", "--customers", str(customers)],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )
    subprocess.run([PY, "-m", "bot.agents.manage", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)


def start_stack(workdir: Path, extra_env: Optional[Dict[str, str]] = None) -> Stack:
    """Seed a fresh billing database in `workdir` and start both servers against it."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        raise RuntimeError("no trained model in models/: run `make train` first")
    database_url = f"sqlite:///{workdir / 'billing.db'}"
    agent_password = "agent-pw-" + os.urandom(8).hex()
    seed(database_url, agent_password=agent_password)
    rasa_port, action_port, agent_port = free_port(), free_port(), free_port()
    token = "test-token-" + os.urandom(6).hex()
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        RASA_TELEMETRY_ENABLED="false",
        DATABASE_URL=database_url,
        RASA_API_TOKEN=token,
        RASA_HOST="127.0.0.1",
        RASA_PORT=str(rasa_port),
        ACTION_SERVER_HOST="127.0.0.1",
        ACTION_SERVER_PORT=str(action_port),
        ACTION_ENDPOINT_URL=f"http://127.0.0.1:{action_port}/webhook",
        TRACKER_DB=str(workdir / "tracker.db"),
        CHANNEL_STATE_DB=str(workdir / "channels.db"),
        AGENT_HOST="127.0.0.1",
        AGENT_PORT=str(agent_port),
        AGENT_SESSION_SECRET="test-session-secret-" + os.urandom(12).hex(),
        AGENT_SECURE_COOKIES="false",
        WEB_JWT_SECRET="test-web-secret-" + os.urandom(12).hex(),
        RASA_PUBLIC_URL=f"http://127.0.0.1:{rasa_port}",
        LOG_LEVEL="INFO",
    )
    env.update(extra_env or {})
    log_path = workdir / "stack.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [PY, "scripts/stack.py", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{rasa_port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stack exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/status?token={token}", timeout=2) as resp:
                if json.loads(resp.read()).get("model_file"):
                    break
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(f"stack did not come up:\n{log_path.read_text()[-4000:]}")
    agent_url = f"http://127.0.0.1:{agent_port}"
    while time.monotonic() < deadline:  # the agent API starts right after the Rasa server
        try:
            with urllib.request.urlopen(f"{agent_url}/health", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None:
                raise RuntimeError(f"stack exited early:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.3)
    return Stack(base_url=base_url, token=token, database_url=database_url, env=env, proc=proc, log_path=log_path,
                 agent_url=agent_url, agent_password=agent_password)
