#!/usr/bin/env python
"""List label conflicts in data/nlu: the same or nearly the same text under different intents.

Two passes, both across files:
  * exact: texts equal after lower-casing and dropping punctuation (`_norm`), different intents;
  * near: pairs of examples with different intents whose character 2-5-gram tf-idf vectors have
    cosine >= --threshold (default 0.85) -- "my card was declined" vs "my card got declined".
With --oof FILE (a JSON list of {text, gold, pred} out-of-fold predictions, e.g. from a
cross-validation run) it also lists the CV errors grouped by (gold -> predicted) pair.

Used to clean the training data systematically (docs/nlu.md, "Labelling rules"): each conflict is
resolved by the labelling rules, by fixing the mapping in scripts/banking77_mapping.py when the
generated files are wrong, or by dropping examples no rule can decide.

    python scripts/nlu_conflicts.py                      # exact + near duplicates
    python scripts/nlu_conflicts.py --threshold 0.8 --oof /tmp/oof.json
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

REPO = Path(__file__).resolve().parents[1]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def read_examples(nlu_dir: Path) -> List[Tuple[str, str, str]]:
    """(text, intent, file) for every example in nlu_dir/*.yml."""
    out = []
    for path in sorted(nlu_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            intent = block.get("intent")
            if not intent:
                continue
            for line in (block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append((line[2:].strip(), intent, path.name))
    return out


def exact_conflicts(examples) -> Dict[str, List[Tuple[str, str, str]]]:
    groups = defaultdict(list)
    for ex in examples:
        groups[_norm(ex[0])].append(ex)
    return {k: v for k, v in groups.items() if len({e[1] for e in v}) > 1}


def near_conflicts(examples, threshold: float):
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [_norm(e[0]) for e in examples]
    X = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True).fit_transform(texts)
    labels = [e[1] for e in examples]
    pairs = []
    step = 500
    for start in range(0, X.shape[0], step):
        S = (X[start:start + step] @ X.T).tocoo()
        for i, j, s in zip(S.row, S.col, S.data):
            i += start
            if j > i and s >= threshold and labels[i] != labels[j] and texts[i] != texts[j]:
                pairs.append((float(s), examples[i], examples[j]))
    return sorted(pairs, key=lambda p: -p[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nlu-dir", default=str(REPO / "data" / "nlu"))
    ap.add_argument("--threshold", type=float, default=0.85)
    ap.add_argument("--oof", help="JSON list of {text, gold, pred}: list the CV errors too")
    ap.add_argument("--check", action="store_true", help="exit 1 if there is an exact conflict")
    args = ap.parse_args(argv)

    examples = read_examples(Path(args.nlu_dir))
    exact = exact_conflicts(examples)
    print(f"# exact cross-intent duplicates: {len(exact)}")
    for key, group in sorted(exact.items()):
        print("  " + " | ".join(f"{t!r} {i} ({f})" for t, i, f in group))
    near = near_conflicts(examples, args.threshold)
    print(f"\n# near duplicates with different intents (char tf-idf cosine >= {args.threshold}): {len(near)}")
    for s, a, b in near:
        print(f"  {s:.2f}  {a[0]!r} {a[1]} ({a[2]})  <>  {b[0]!r} {b[1]} ({b[2]})")
    if args.oof:
        rows = json.loads(Path(args.oof).read_text(encoding="utf-8"))
        where = {e[0]: e[2] for e in examples}
        errs = defaultdict(list)
        for r in rows:
            if r["gold"] != r["pred"]:
                errs[(r["gold"], r["pred"])].append(r["text"])
        print(f"\n# CV errors: {sum(len(v) for v in errs.values())} of {len(rows)}")
        for (g, p), texts in sorted(errs.items(), key=lambda kv: -len(kv[1])):
            print(f"## {g} -> {p}: {len(texts)}")
            for t in texts:
                print(f"    {t!r} ({where.get(t, '?')})")
    return 1 if (args.check and exact) else 0


if __name__ == "__main__":
    sys.exit(main())
