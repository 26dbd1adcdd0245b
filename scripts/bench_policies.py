#!/usr/bin/env python
"""In-process timing of the policies' prediction and of one NLU parse, with and without this project's
RulePolicy index and debug-copy patches (bot/runtime/rule_index.py, bot/runtime/debug_logs.py).

    PYTHONPATH=. .venv/bin/python scripts/bench_policies.py [--rounds 4]

End-to-end runs (`make bench`) vary by ±10-20 % from run to run on a shared VM; this measures the
same predictions (every second prefix of every story and rule tracker of the project, on the latest
trained model in models/) in one process, the two variants interleaved, CPU time per prediction.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    from rasa.core.agent import Agent

    import bot.runtime  # noqa: F401  the server's patches
    from bot.runtime import debug_logs, rule_index
    from tests.nlu.test_intents import _latest_model
    from tests.runtime.test_states_cache import TRACKERS

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)  # Rasa's structured debug lines off, as in `rasa run`
    model = _latest_model()
    agent = Agent.load(model_path=str(model))
    processor = agent.processor
    prefixes = [(t, t.events[end - 1].timestamp) for t in TRACKERS for end in range(1, len(t.events) + 1, 2)]

    def per_prediction_ms() -> float:
        started = time.process_time()
        for tracker, until in prefixes:
            processor._predict_next_with_tracker(tracker.travel_back_in_time(until))
        return (time.process_time() - started) * 1000 / len(prefixes)

    per_prediction_ms()  # warm-up
    results = {"patched": [], "Rasa's own": []}
    for _ in range(args.rounds):
        rule_index.install()
        debug_logs.install()
        results["patched"].append(per_prediction_ms())
        rule_index.uninstall()
        debug_logs.uninstall()
        results["Rasa's own"].append(per_prediction_ms())
    rule_index.install()
    debug_logs.install()
    print(f"model {model.name}: {len(prefixes)} predictions per round, {args.rounds} rounds, CPU ms per prediction")
    for name, values in results.items():
        print(f"  {name:11} min {min(values):.3f}  rounds " + " ".join(f"{v:.3f}" for v in values))

    texts = ["you charged me twice!!", "ACC-1001", "94110", "yes please", "what do i owe", "i want a human NOW"] * 50
    started = time.process_time()
    for text in texts:
        asyncio.run(agent.parse_message(text))
    print(f"  NLU parse: {(time.process_time() - started) * 1000 / len(texts):.3f} ms CPU per message "
          f"({len(texts)} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
