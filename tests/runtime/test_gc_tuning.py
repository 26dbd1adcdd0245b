"""The servers settle their garbage collector once they serve; nothing else does.

Each case runs in a fresh interpreter: settling freezes the process that does it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


REPORT = "import gc, json; print(json.dumps({'frozen': gc.get_freeze_count(), 'thresholds': gc.get_threshold()}))"


# Starts the Sanic ``app`` the code before it made (its after_server_start listeners run), stops it,
# and prints the collector's state.
START_AND_REPORT = f"""
import asyncio, socket
async def main():
    sock = socket.socket(); sock.bind(("127.0.0.1", 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup(); await server.after_start(); await server.close()
asyncio.run(main())
{REPORT}
"""


def serve_rest_channel(app_name: str) -> str:
    """An app called ``app_name`` with the REST channel's blueprint, started and stopped right away."""
    return f"""
from sanic import Sanic
from bot.channels.rest import RestChannel
Sanic.test_mode = True
app = Sanic({app_name!r})
app.blueprint(RestChannel().blueprint(lambda m: None))
{START_AND_REPORT}"""


def test_the_rasa_server_settles_once_started_through_the_rest_channel() -> None:
    report = run(serve_rest_channel("rasa_server"))
    assert report["frozen"] > 10_000 and report["thresholds"] == [10_000, 20, 20]


def test_an_app_that_is_not_a_server_of_the_assistant_settles_nothing() -> None:
    report = run(serve_rest_channel("sms_test_app"))
    assert report == {"frozen": 0, "thresholds": [700, 10, 10]}


def test_the_action_server_settles_when_it_imports_the_actions() -> None:
    report = run(f"""
from rasa_sdk.endpoint import create_app
app = create_app("actions")
{START_AND_REPORT}""")
    assert report["frozen"] > 10_000 and report["thresholds"] == [10_000, 20, 20]


def test_importing_the_actions_outside_the_action_server_settles_nothing() -> None:
    assert run(f"import actions, actions.disputes\n{REPORT}") == {"frozen": 0, "thresholds": [700, 10, 10]}
