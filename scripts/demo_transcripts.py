"""Play every demo scenario (ACC-1001 ... ACC-1006) against a running assistant over REST and print
the transcripts: `make run` in one terminal, `make demo` in another.

    python scripts/demo_transcripts.py [--url http://127.0.0.1:5005] [--only maria,tom]

Each scenario uses a fresh sender id; money actions happen for real in the configured billing
database (run `python -m bot.billing.seed --reset` to start the demo over).
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import uuid
from typing import Dict, List, Tuple

SCENARIOS: Dict[str, List[str]] = {
    "maria": ["you charged me twice!!", "INV-0142", "maria.lopez@example.com", "refund it to my card", "yes", "5",
              "no thanks"],
    "james": ["why is there a late fee on my bill? I paid on time", "ACC-1002", "10001", "yes", "4", "no"],
    "priya": ["I can't pay my bill all at once, can I pay in installments?", "ACC-1003", "60614",
              "can I pay over 3 months?", "yes", "5", "thanks"],
    "tom": ["I'm disputing the $2,500 equipment charge on my bill", "ACC-1004", "73301", "hello?"],
    "aisha": ["I cancelled last month and you still billed me $79", "ACC-1005", "aisha.bello@example.com",
              "refund please", "yes", "5", "no"],
    "liam": ["I think my bill is wrong", "ACC-1006", "02134", "no thanks", "4", "no"],
}


def say(url: str, sender: str, text: str) -> List[str]:
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url + "/webhooks/rest/webhook", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        replies = json.loads(resp.read() or b"[]")
    out = []
    for r in replies:
        line = r.get("text", "")
        if r.get("buttons"):
            line += "  [" + " | ".join(b["title"] for b in r["buttons"]) + "]"
        out.append(line)
    return out


def play(url: str, name: str, messages: List[str]) -> List[Tuple[str, str]]:
    sender = f"demo-{name}-{uuid.uuid4().hex[:6]}"
    lines: List[Tuple[str, str]] = []
    for message in messages:
        lines.append(("customer", message))
        lines.extend(("bot", r) for r in say(url, sender, message))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--only", default="")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    for name in names:
        print(f"\n=== {name} ===")
        for who, text in play(args.url, name, SCENARIOS[name]):
            print(f"{'>' if who == 'customer' else ' '} {who:8} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
