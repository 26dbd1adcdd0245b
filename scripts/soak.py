"""Soak test of the production profile: many concurrent dispute conversations for a long time.

    python scripts/soak.py                      # starts `stack.py run --profile prod`, 50 users, 10 minutes
    python scripts/soak.py --users 20 --minutes 2
    python scripts/soak.py --url http://127.0.0.1:5005 --no-start   # against a running profile (no RSS)

Each simulated customer runs one dispute conversation after another (new sender id each time) through
the load balancer's REST webhook. Counted:

- errors: HTTP errors, timeouts, an empty reply, or the "trouble reaching your account" apology;
- lost messages: a customer message missing from its conversation's tracker (PostgreSQL), and
  tracker events that never reached the analytics store (RabbitMQ -> consumer);
- memory: the RSS of every process of the stack (Rasa servers, action servers, nginx, agent API,
  consumer), sampled every few seconds; "flat" compares the first and the last minute.

Prints the figures and writes them to results/soak/soak.json. Not part of `make test` (`make soak`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT  # noqa: E402

SCRIPTS: List[List[str]] = [
    ["hi", "I was charged twice this month", "INV-0142", "maria.lopez@example.com",
     '/inform{"offer_id": "refund:INV-0142"}', "yes", "5", "no thanks"],
    ["is my bill overdue?", "ACC-1003", "60614", "thanks", "bye"],
    ["I need a payment plan", "ACC-1003", "60614", "can I pay over 3 months?", "no", "bye"],
    ["there's a late fee on my bill I shouldn't pay", "INV-0207", "10001", "yes", "4", "no thanks"],
]
RSS_EVERY_S = 5.0
FLAT_TOLERANCE = 0.10  # last minute's RSS within 10% (or 25 MiB) of the first minute's
FLAT_SLACK_KIB = 25 * 1024


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    conversations: List[Tuple[str, List[str]]] = field(default_factory=list)  # sender, messages answered
    messages: int = 0
    replies: int = 0
    errors: List[str] = field(default_factory=list)
    latencies: List[float] = field(default_factory=list)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def _post(url: str, payload: dict, timeout: float = 120) -> list:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"[]")


def _customer(base: str, until: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        script = rng.choice(SCRIPTS)
        sender = f"soak-{uuid.uuid4().hex[:12]}"
        sent: List[str] = []
        for text in script:
            start = time.monotonic()
            try:
                replies = _post(base + "/webhooks/rest/webhook", {"sender": sender, "message": text})
            except (urllib.error.URLError, OSError, ValueError) as exc:
                tally.error(f"{sender} {text!r}: {exc!r}")
                sent.append(text)  # it may still have reached the tracker
                break
            elapsed = time.monotonic() - start
            sent.append(text)
            texts = [r.get("text") or "" for r in replies]
            with tally.lock:
                tally.messages += 1
                tally.latencies.append(elapsed)
                if replies and TROUBLE_REACHING_ACCOUNT not in texts:
                    tally.replies += 1
            if not replies:
                tally.error(f"{sender} {text!r}: no reply")
            elif TROUBLE_REACHING_ACCOUNT in texts:
                tally.error(f"{sender} {text!r}: trouble reply")
        with tally.lock:
            tally.conversations.append((sender, sent))


def _rss_kib(pid: int) -> Optional[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> List[int]:
    """Every descendant of ``pid`` (from /proc, no psutil)."""
    parents: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _label(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [c.decode(errors="replace") for c in cmd if c]
    text = " ".join(words)
    if "run actions" in text:
        return f"action-server:{words[words.index('--port') + 1]}"
    if "rasa" in text and "--port" in words:
        return f"rasa:{words[words.index('--port') + 1]}"
    if "nginx" in text:
        return f"nginx:{pid}"
    if "bot.agents.server" in text:
        return "agent-api"
    if "bot.analytics.consumer" in text:
        return "analytics-consumer"
    if "stack.py" in text:
        return "stack.py"
    return f"{Path(words[0]).name if words else '?'}:{pid}"


def _sample(root: int, until_event: threading.Event, samples: Dict[str, List[Tuple[float, int]]], t0: float) -> None:
    while not until_event.is_set():
        now = time.monotonic() - t0
        for pid in [root] + _children(root):
            rss = _rss_kib(pid)
            if rss is not None:
                samples.setdefault(_label(pid), []).append((now, rss))
        until_event.wait(RSS_EVERY_S)


def _memory_report(samples: Dict[str, List[Tuple[float, int]]], t_end: float) -> Dict[str, dict]:
    report = {}
    for name, points in sorted(samples.items()):
        first = [r for t, r in points if t <= 60]
        last = [r for t, r in points if t >= t_end - 60]
        if not first or not last:
            continue
        a, b = statistics.mean(first), statistics.mean(last)
        growth = b - a
        report[name] = {"first_minute_mib": round(a / 1024, 1), "last_minute_mib": round(b / 1024, 1),
                        "growth_mib": round(growth / 1024, 1), "max_mib": round(max(r for _, r in points) / 1024, 1),
                        "flat": growth <= max(FLAT_TOLERANCE * a, FLAT_SLACK_KIB)}
    return report


def _tracker_users(base: str, token: str, sender: str) -> Tuple[List[str], int]:
    with urllib.request.urlopen(f"{base}/conversations/{sender}/tracker?token={token}&include_events=ALL",
                                timeout=60) as resp:
        events = json.loads(resp.read())["events"]
    return [e.get("text") or "" for e in events if e["event"] == "user"], len(events)


def _check_stores(base: str, token: str, analytics_url: Optional[str], tally: Tally, wait_s: float) -> dict:
    lost_in_tracker: List[str] = []
    tracker_counts: Dict[str, int] = {}
    for sender, sent in tally.conversations:
        try:
            users, count = _tracker_users(base, token, sender)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            lost_in_tracker.append(f"{sender}: tracker unreadable {exc!r}")
            continue
        tracker_counts[sender] = count
        if len(users) < len(sent):
            lost_in_tracker.append(f"{sender}: {len(sent)} sent, {len(users)} in the tracker")
    result = {"conversations_checked": len(tracker_counts), "messages_missing_in_tracker": lost_in_tracker[:20],
              "messages_missing_in_tracker_count": len(lost_in_tracker)}
    if not analytics_url:
        return result
    from bot.analytics.store import load_events

    senders = list(tracker_counts)
    deadline = time.monotonic() + wait_s
    while True:
        stored: Dict[str, int] = {}
        for i in range(0, len(senders), 500):
            for event in load_events(analytics_url, senders[i:i + 500]):
                stored[event["sender_id"]] = stored.get(event["sender_id"], 0) + 1
        short = {s: (tracker_counts[s], stored.get(s, 0)) for s in senders if stored.get(s, 0) < tracker_counts[s]}
        if not short or time.monotonic() > deadline:
            break
        time.sleep(3)
    result.update({"tracker_events": sum(tracker_counts.values()), "analytics_events": sum(stored.values()),
                   "conversations_with_events_missing_in_analytics": len(short),
                   "examples_missing_in_analytics": [f"{s}: tracker {a}, analytics {b}" for s, (a, b)
                                                     in list(short.items())[:10]]})
    return result


def _start_stack(env: dict, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "scripts/stack.py", "run", "--profile", "prod"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    agent = f"http://{env.get('AGENT_HOST') or '127.0.0.1'}:{env.get('AGENT_PORT') or '5057'}/health"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the production profile exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(agent, timeout=2):
                return proc
        except (urllib.error.URLError, OSError):
            time.sleep(1)
    _stop(proc)
    raise SystemExit(f"the production profile did not come up:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50, help="concurrent conversations (default 50)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument("--url", default=None, help="the Rasa load balancer (default http://RASA_HOST:RASA_PORT)")
    parser.add_argument("--no-start", action="store_true", help="use a running production profile")
    parser.add_argument("--out", default=str(ROOT / "results" / "soak"))
    args = parser.parse_args(argv)

    load_dotenv(ROOT / ".env", override=False)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", LOG_LEVEL=os.environ.get("SOAK_LOG_LEVEL", "WARNING"))
    env.setdefault("ANALYTICS_DATABASE_URL", f"sqlite:///{out / 'analytics.db'}")
    # the soak measures errors, losses and memory under load, not the abuse limits: those are off for the run
    env["RATE_LIMIT_PER_SENDER_PER_MINUTE"] = env["RATE_LIMIT_PER_CHANNEL_PER_MINUTE"] = "0"
    if not args.no_start:
        env["ANALYTICS_DATABASE_URL"] = f"sqlite:///{out / 'analytics.db'}"  # this run's events only
    base = args.url or f"http://{env.get('RASA_HOST') or '127.0.0.1'}:{env.get('RASA_PORT') or '5005'}"
    token = env.get("RASA_API_TOKEN", "")
    proc = None if args.no_start else _start_stack(env, out / "stack.log")
    samples: Dict[str, List[Tuple[float, int]]] = {}
    stop_sampling = threading.Event()
    t0 = time.monotonic()
    sampler = None
    if proc is not None:
        sampler = threading.Thread(target=_sample, args=(proc.pid, stop_sampling, samples, t0), daemon=True)
        sampler.start()
    try:
        tally = Tally()
        until = t0 + args.minutes * 60
        print(f"soak: {args.users} concurrent conversations for {args.minutes:g} min against {base}", flush=True)
        workers = [threading.Thread(target=_customer, args=(base, until, tally, i), daemon=True)
                   for i in range(args.users)]
        for w in workers:
            w.start()
        while any(w.is_alive() for w in workers):
            time.sleep(30)
            with tally.lock:
                print(f"  {time.monotonic() - t0:6.0f}s  conversations {len(tally.conversations)}  "
                      f"messages {tally.messages}  errors {len(tally.errors)}", flush=True)
        t_end = time.monotonic() - t0
        stop_sampling.set()
        if sampler is not None:
            sampler.join()
        stores = _check_stores(base, token, env["ANALYTICS_DATABASE_URL"] if proc is not None else None, tally, 120)
    finally:
        stop_sampling.set()
        if proc is not None:
            _stop(proc)
    lat = sorted(tally.latencies) or [0.0]
    figures = {
        "users": args.users, "minutes": args.minutes, "conversations": len(tally.conversations),
        "messages": tally.messages, "answered": tally.replies, "errors": len(tally.errors),
        "error_examples": tally.errors[:10],
        "latency_s": {"median": round(statistics.median(lat), 3), "p95": round(lat[int(0.95 * (len(lat) - 1))], 3),
                      "max": round(lat[-1], 3)},
        "stores": stores, "memory": _memory_report(samples, t_end),
    }
    (out / "soak.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    lost = stores.get("messages_missing_in_tracker_count", 0) + stores.get(
        "conversations_with_events_missing_in_analytics", 0)
    flat = all(m["flat"] for m in figures["memory"].values())
    print(f"soak: {figures['messages']} messages in {figures['conversations']} conversations, "
          f"{figures['errors']} errors, {lost} lost, memory {'flat' if flat else 'GROWING'} "
          f"(first vs last minute, every process)", flush=True)
    return 0 if not tally.errors and not lost and flat else 1


if __name__ == "__main__":
    sys.exit(main())
