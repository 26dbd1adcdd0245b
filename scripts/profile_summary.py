#!/usr/bin/env python
"""Summarise py-spy collapsed stacks (`py-spy record --format raw`, e.g. from `scripts/bench.py --profile`).

    python scripts/profile_summary.py results/bench/profile/single-rasa.txt [--top 30] [--match rasa/core]

Prints, per function, the share of samples in which it is on the stack (inclusive time), and the
share of time in a few buckets that matter for a Rasa turn.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

BUCKETS: Dict[str, str] = {
    "tracker store: retrieve": r"tracker_store\.py\S*\)?$|:.*\bretrieve\b \(.*tracker",
    "policies: predict": r"\bpredict_action_probabilities\b|\b_predict_next_action\b",
    "featurizers / past_states": r"\bstates_for_tracker_history\b|\bpast_states\b",
    "NLU pipeline": r"\bparse_message\b",
    "remote action (HTTP)": r"\bRemoteAction\b|actions/action\.py.*\brun\b",
    "lock store": r"lock_store\.py",
    "event broker": r"brokers/",
    "logging": r"logging/__init__\.py",
    "json": r"json/(encoder|decoder)\.py|\bjson_to_string\b",
}


def read(path: Path) -> List[Tuple[List[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def inclusive(stacks: List[Tuple[List[str], int]]) -> Counter:
    totals: Counter = Counter()
    for frames, count in stacks:
        for frame in set(re.sub(r":\d+\)$", ")", f) for f in frames):
            totals[frame] += count
    return totals


def buckets(stacks: List[Tuple[List[str], int]]) -> Counter:
    totals: Counter = Counter()
    for frames, count in stacks:
        for name, pattern in BUCKETS.items():
            if any(re.search(pattern, f) for f in frames):
                totals[name] += count
    return totals


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only functions whose frame contains this text")
    args = parser.parse_args(argv)
    for name in args.files:
        stacks = read(Path(name))
        total = sum(c for _, c in stacks) or 1
        idle = sum(c for f, c in stacks if any("select" in x and "selectors.py" in x for x in f[-2:]))
        print(f"\n== {name}: {total} samples, {100 * idle / total:.0f}% waiting in the event loop (idle)")
        for bucket, count in buckets(stacks).most_common():
            print(f"  {100 * count / total:5.1f}%  {bucket}")
        print("  -- functions (inclusive) --")
        shown = 0
        for frame, count in inclusive(stacks).most_common():
            if args.match and args.match not in frame:
                continue
            print(f"  {100 * count / total:5.1f}%  {frame[:150]}")
            shown += 1
            if shown >= args.top:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
