"""In-process CPU of the Rasa server's per-turn bookkeeping, Rasa 3.6's way vs bot/runtime's.

- tracker copies: ``DialogueStateTracker.copy`` (the processor copies the tracker before each action)
  plus ``init_copy`` (every prior tracker a dialogue-states replay builds), with Rasa's replay and
  ``copy.copy`` of each slot vs ``bot/runtime/tracker_copy.py``;
- applied events: every story and rule tracker of the project grown event by event, asked twice per
  event (a session check and a prediction), Rasa's walk from the first event vs
  ``bot/runtime/applied_events.py``;
- NLU: CPU per parsed message of the latest trained model (``models/*.tar.gz``) on twelve messages of
  ``make bench``'s conversations.

    PYTHONPATH=. .venv/bin/python scripts/bench_runtime.py [--no-nlu]
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import logging
import os
import time
from types import ModuleType
from typing import Callable, Tuple

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import rasa.shared.core.trackers as rasa_trackers  # noqa: E402

import bot.runtime  # noqa: E402,F401  installs bot/runtime's replacements, as endpoints.yml does
from bot.runtime import applied_events, tracker_copy  # noqa: E402
from tests.runtime.test_states_cache import DOMAIN, TRACKERS  # noqa: E402

BENCH_MESSAGES = ["you charged me twice!!", "INV-0142", "jane.doe@example.com", "refund it please", "yes", "5",
                  "no thanks", "I think my bill is wrong", "ACC-204512", "94110", "no", "4"]


def rasa_vs_ours(replacement: ModuleType, measure: Callable[[], float], runs: int = 3) -> Tuple[float, float]:
    """The best of ``runs`` measurements with Rasa's code (``replacement`` uninstalled) and with ours."""
    ours = min(measure() for _ in range(runs))
    replacement.uninstall()
    try:
        rasas = min(measure() for _ in range(runs))
    finally:
        replacement.install()
    return rasas, ours


def copies() -> None:
    tracker = max(TRACKERS, key=lambda t: len(t.events))

    def measure() -> float:
        started = time.process_time()
        for _ in range(2000):
            tracker.copy()
            tracker.init_copy()
        return (time.process_time() - started) / 2000 * 1e6

    rasas, ours = rasa_vs_ours(tracker_copy, measure)
    print(f"tracker copy + init_copy ({len(tracker.events)} events, {len(DOMAIN.slots)} slots): "
          f"Rasa {rasas:.1f} us, bot/runtime {ours:.1f} us")


def applied() -> None:
    def measure() -> float:
        started = time.process_time()
        for story in TRACKERS:
            growing = rasa_trackers.DialogueStateTracker(story.sender_id, DOMAIN.slots)
            for event in story.events:
                growing.update(event)
                growing.applied_events()
                growing.applied_events()
        return (time.process_time() - started) * 1000

    rasas, ours = rasa_vs_ours(applied_events, measure)
    events = sum(len(t.events) for t in TRACKERS)
    print(f"applied events, {len(TRACKERS)} trackers grown over {events} events (updates included): "
          f"Rasa {rasas:.1f} ms, bot/runtime {ours:.1f} ms")


def nlu() -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # as the server at its default level: no debug lines printed

    models = sorted(glob.glob("models/*.tar.gz"))
    if not models:
        print("NLU: no trained model in models/ (make train)")
        return
    logging.disable(logging.WARNING)
    agent = Agent.load(models[-1])

    async def measure() -> float:
        started = time.process_time()
        for _ in range(30):
            for text in BENCH_MESSAGES:
                await agent.processor.parse_message(UserMessage(text))
        return (time.process_time() - started) / (30 * len(BENCH_MESSAGES)) * 1000

    async def run() -> float:
        for text in BENCH_MESSAGES * 5:  # warm up
            await agent.processor.parse_message(UserMessage(text))
        return min([await measure() for _ in range(5)])

    print(f"NLU parse ({os.path.basename(models[-1])}): {asyncio.run(run()):.2f} ms of CPU per message")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-nlu", action="store_true", help="skip the NLU part (needs a trained model)")
    args = parser.parse_args()
    copies()
    applied()
    if not args.no_nlu:
        nlu()


if __name__ == "__main__":
    main()
