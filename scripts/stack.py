"""Start the action server and the Rasa server as one unit, and stop both cleanly.

    python scripts/stack.py run            # both servers in the foreground until Ctrl-C
    python scripts/stack.py exec -- CMD    # action server up while CMD runs (rasa shell, rasa test)
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import List, Optional

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env() -> dict:
    load_dotenv(ROOT / ".env", override=False)
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("ACTION_SERVER_HOST", "127.0.0.1")
    env.setdefault("ACTION_SERVER_PORT", "5055")
    env.setdefault(
        "ACTION_ENDPOINT_URL",
        f"http://{env['ACTION_SERVER_HOST']}:{env['ACTION_SERVER_PORT']}/webhook",
    )
    env.setdefault("RASA_HOST", "127.0.0.1")
    env.setdefault("RASA_PORT", "5005")
    env.setdefault("AGENT_HOST", "127.0.0.1")
    env.setdefault("AGENT_PORT", "5057")
    env.setdefault("TRACKER_DB", "var/tracker.db")
    env.setdefault("LOG_LEVEL", "INFO")
    env["SANIC_HOST"] = env["ACTION_SERVER_HOST"]  # rasa-sdk reads its bind address from here
    return env


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Wait until ``url`` answers. If it never does, or the wait is interrupted (Ctrl-C, or SIGTERM from a
    test stopping a stack that is still starting), the process is stopped before giving up: it is not yet
    in the caller's list of processes to stop, so it would be left running."""
    try:
        _poll_http(url, proc, timeout)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise


def _poll_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"process for {url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    raise SystemExit(f"timed out waiting for {url}")


def _stop(procs: List[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()  # SIGTERM: also works when SIGINT is ignored (started in the background)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def start_action_server(env: dict, wait: bool = True) -> subprocess.Popen:
    level = "--debug" if env["LOG_LEVEL"].upper() == "DEBUG" else "--quiet" if env["LOG_LEVEL"].upper() == "WARNING" else "-v"
    proc = subprocess.Popen(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", env["ACTION_SERVER_PORT"], level],
        cwd=ROOT,
        env=env,
    )
    if wait:
        _wait_http(f"http://{env['ACTION_SERVER_HOST']}:{env['ACTION_SERVER_PORT']}/health", proc, 120)
    return proc


def start_rasa_server(env: dict, model: Optional[str], wait: bool = True) -> subprocess.Popen:
    cmd = [
        str(BIN / "rasa"), "run",
        "--enable-api", f"--auth-token={env['RASA_API_TOKEN']}",  # = form: a token may start with "-"
        "--interface", env["RASA_HOST"], "--port", env["RASA_PORT"],
        "--endpoints", env.get("RASA_ENDPOINTS") or "endpoints.yml", "--credentials", "credentials.yml",
        "--model", model or "models",
        "--cors", f"http://{env['RASA_HOST']}:{env['RASA_PORT']}",
    ]
    if env["LOG_LEVEL"].upper() == "DEBUG":
        cmd.append("--debug")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    if wait:
        _wait_http(f"http://{env['RASA_HOST']}:{env['RASA_PORT']}/", proc, 300)
    return proc


def start_agent_server(env: dict) -> subprocess.Popen:
    """The agent API (bot.agents.server): handoff queue, replies, hand back."""
    proc = subprocess.Popen([str(BIN / "python"), "-m", "bot.agents.server"], cwd=ROOT, env=env)
    _wait_http(f"http://{env['AGENT_HOST']}:{env['AGENT_PORT']}/health", proc, 60)
    return proc


def _banner(env: dict) -> None:
    base = f"http://{env['RASA_HOST']}:{env['RASA_PORT']}"
    print(
        "\n"
        "  The billing assistant is running.\n"
        f"  REST:    curl -s {base}/webhooks/rest/webhook -d '{{\"sender\":\"me\",\"message\":\"hi\"}}'\n"
        f"  Tracker: curl -s \"{base}/conversations/me/tracker?token=$RASA_API_TOKEN\"   (token in .env)\n"
        f"  Website: http://{env['AGENT_HOST']}:{env['AGENT_PORT']}/   (chat widget; sign in as ACC-1001 / 94110)\n"
        f"  Console: http://{env['AGENT_HOST']}:{env['AGENT_PORT']}/console  (agents alex, sam; password "
        "AGENT_DEMO_PASSWORD in .env)\n"
        "  Shell:   make shell        Stop: Ctrl-C\n",
        flush=True,
    )


def run(model: Optional[str], profile: str = "default", replicas: int = 1) -> int:
    env = _env()
    if not env.get("RASA_API_TOKEN"):
        raise SystemExit("RASA_API_TOKEN is not set: run `make .env` (or `make run`) first")
    procs: List[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        if profile == "prod":
            import stack_prod  # scripts/stack_prod.py: PostgreSQL, Redis, RabbitMQ, replicas behind nginx

            env = stack_prod.prepare(env)
            stack_prod.start(env, model, replicas, sys.modules[__name__], procs)  # fills procs as it starts them
        else:
            procs.append(start_action_server(env))
            procs.append(start_rasa_server(env, model))
        procs.append(start_agent_server(env))
        _banner(env)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return next(p.returncode for p in procs if p.poll() is not None) or 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        _stop(procs)


def exec_with_actions(cmd: List[str]) -> int:
    env = _env()
    procs = [start_action_server(env)]
    try:
        return subprocess.call(cmd, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130
    finally:
        _stop(procs)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="action server + Rasa server until Ctrl-C")
    p_run.add_argument("--model", default=None)
    p_run.add_argument("--profile", choices=("default", "prod"), default="default",
                       help="prod: endpoints.prod.yml (PostgreSQL, Redis, RabbitMQ), billing on PostgreSQL")
    p_run.add_argument("--replicas", type=int, default=None, help="prod: Rasa and action servers each (REPLICAS)")
    p_exec = sub.add_parser("exec", help="run a command with the action server up")
    p_exec.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    load_dotenv(ROOT / ".env", override=False)
    if args.command == "run":
        replicas = args.replicas or int(os.environ.get("REPLICAS", "2") if args.profile == "prod" else 1)
        return run(args.model, args.profile, max(1, replicas))
    cmd = [c for c in args.cmd if c != "--"]
    if not cmd:
        parser.error("exec needs a command")
    return exec_with_actions(cmd)


if __name__ == "__main__":
    sys.exit(main())
