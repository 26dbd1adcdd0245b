"""The production profile's nginx: when no Rasa server answers, a REST customer still gets an honest
reply (503 with the trouble message as the usual JSON list, Retry-After), and normal answers pass."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT
from tests.servers import ROOT, free_port

sys.path.insert(0, str(ROOT / "scripts"))
import stack_prod  # noqa: E402

ANSWER = [{"recipient_id": "a", "text": "Hi! I'm the billing assistant."}]


class _Rasa(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(ANSWER).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _post(port: int) -> Tuple[int, str, list]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": "a", "message": "hi"}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers.get("Retry-After") or "", json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After") or "", json.loads(error.read())


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Tuple[int, int]]:
    if not Path(stack_prod.NGINX).exists():
        raise RuntimeError("nginx is needed: run `make prod-deps`")
    up, port = free_port(), free_port()
    env = {"NGINX_DIR": str(tmp_path / "nginx"), "RASA_HOST": "127.0.0.1", "RASA_PORT": str(port),
           "ACTION_SERVER_HOST": "127.0.0.1", "ACTION_SERVER_PORT": str(free_port())}
    live = stack_prod.write_nginx_conf(env, [up], [free_port()])
    proc = subprocess.Popen([stack_prod.NGINX, "-c", str(live), "-p", str(live.parent), "-g", "daemon off;"],
                            stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        yield port, up
    finally:
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(tmp_path / "nginx", ignore_errors=True)


def test_no_rasa_server_answering_gets_the_trouble_message(nginx: Tuple[int, int]) -> None:
    port, _ = nginx  # nothing listens on the Rasa upstream
    status, retry_after, body = _post(port)
    assert (status, retry_after) == (503, "30")
    assert body == [{"text": TROUBLE_REACHING_ACCOUNT}]


def test_a_rasa_server_answering_passes_through(nginx: Tuple[int, int]) -> None:
    port, up = nginx
    server = ThreadingHTTPServer(("127.0.0.1", up), _Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _post(port) == (200, "", ANSWER)
    finally:
        server.shutdown()
        server.server_close()
