#!/usr/bin/env python
"""Measure intent classification for the Northwind billing assistant.

  (a) k-fold cross-validation on the project's NLU data (`rasa test nlu --cross-validation`),
      intent macro-F1 from Rasa's intent_report.json;
  (b) trains an NLU model on the project's NLU data (or loads --model) and classifies the
      BANKING77 *test* split mapped onto our intents (scripts/banking77_mapping.py):
      macro-F1 over the mapped intents and out-of-scope recall (`nlu_fallback` counts as
      out_of_scope); also parse latency per message (Agent.parse_message);
  (c) training time of the full `rasa train` (NLU + dialogue; --nlu-only: NLU pipeline) and model size.

Writes results/nlu/summary.json (+ per-part JSON and confusion-matrix PNGs) and prints a table.

  python scripts/eval_nlu.py                      # everything (CV is the slow part)
  python scripts/eval_nlu.py --skip-cv            # train + BANKING77 + latency only
  python scripts/eval_nlu.py --skip-cv --model models/nlu-xyz.tar.gz
  python scripts/eval_nlu.py --config /tmp/exp.yml --out /tmp/exp   # try a pipeline

BANKING77 (CC BY 4.0) is read from $SHARED_DATA_DIR (default <repo>/../shared/data).
Goals (from the issue): CV macro-F1 >= 0.95, BANKING77 mapped macro-F1 >= 0.90,
out-of-scope recall >= 0.85.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
# no training cache: otherwise a re-run "trains" in seconds and the train time means nothing
os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p)

import banking77_mapping as b77  # noqa: E402

GOALS = {"cv_macro_f1": 0.95, "banking77_macro_f1": 0.90, "banking77_oos_recall": 0.85}
MAX_TRAIN_TIME_S = 300.0  # full `rasa train` on the 2-core machine
FALLBACK = "nlu_fallback"


def rasa_bin() -> str:
    cand = Path(sys.executable).parent / "rasa"
    return str(cand) if cand.exists() else "rasa"


# ----------------------------------------------------------------------------- (a) CV
# Components that add to a parse but never change its intent: cross-validation leaves them out so
# the five folds train only what the intent depends on (the sentiment model alone is minutes/fold).
NOT_INTENT_COMPONENTS = ("bot.nlu.sentiment.SentimentAnalyzer", "bot.nlu.entities.BillingEntityExtractor")


def intent_only_config(config: str, out: Path) -> str:
    import yaml

    doc = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    doc["pipeline"] = [c for c in doc.get("pipeline") or [] if c.get("name") not in NOT_INTENT_COMPONENTS]
    doc.pop("policies", None)
    path = out / "cv_config.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


def run_cross_validation(config: str, nlu: str, folds: int, out: Path,
                         full_pipeline: bool = False) -> Dict:
    cv_dir = out / "cv"
    cv_dir.mkdir(parents=True, exist_ok=True)
    if not full_pipeline:
        config = intent_only_config(config, out)
    cmd = [rasa_bin(), "test", "nlu", "--nlu", nlu, "--config", config,
           "--cross-validation", "--folds", str(folds), "--out", str(cv_dir)]
    print("+", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    (cv_dir / "rasa_test.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"cross-validation failed (see {cv_dir / 'rasa_test.log'})")
    report = json.loads((cv_dir / "intent_report.json").read_text(encoding="utf-8"))
    per_intent = {k: {m: round(v[m], 4) for m in ("precision", "recall", "f1-score", "support")}
                  for k, v in report.items() if isinstance(v, dict) and "support" in v
                  and k not in ("macro avg", "weighted avg", "micro avg")}
    fallback_errors = 0
    errors_file = cv_dir / "intent_errors.json"
    if errors_file.exists():
        errs = json.loads(errors_file.read_text(encoding="utf-8"))
        fallback_errors = sum(1 for e in errs if e["intent_prediction"]["name"] == FALLBACK)
    res = {
        "folds": folds,
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
        "accuracy": round(report.get("accuracy", float("nan")), 4),
        "n_examples": int(report["macro avg"]["support"]),
        "errors_predicted_as_nlu_fallback": fallback_errors,
        "per_intent": per_intent,
        "wall_time_s": round(elapsed, 1),
        "confusion_matrix_png": str(cv_dir / "intent_confusion_matrix.png"),
    }
    (out / "cv.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


# ----------------------------------------------------------------------------- (b,c) train
def train_model(config: str, nlu: str, out: Path, full: bool = False,
                domain: str = "", data: str = "") -> Dict:
    """Train a model; `full` = the whole `rasa train` (NLU + dialogue policies), as `make train`."""
    from rasa.model_training import train, train_nlu

    model_dir = Path(tempfile.mkdtemp(prefix="eval_nlu_model_"))
    t0 = time.perf_counter()
    if full:
        result = train(domain=domain, config=config, training_files=[data], output=str(model_dir),
                       fixed_model_name="eval-full", force_training=True)
        model = result.model if result.code == 0 else None
    else:
        model = train_nlu(config=config, nlu_data=nlu, output=str(model_dir),
                          fixed_model_name="eval-nlu")
    elapsed = time.perf_counter() - t0
    if not model:
        raise SystemExit("training failed")
    return {"model": model, "train_time_s": round(elapsed, 1), "tmp_dir": str(model_dir),
            "what": "rasa train (NLU + dialogue)" if full else "rasa train nlu"}


def count_examples(nlu: str) -> Dict[str, int]:
    from rasa.shared.nlu.training_data.loading import load_data

    td = load_data(nlu)
    counts = {k: int(v) for k, v in sorted(td.number_of_examples_per_intent.items())}
    return counts


async def parse_all(model: str, texts: List[str]) -> (List[str], List[float], List[float]):
    from rasa.core.agent import Agent

    agent = Agent.load(model_path=model)
    for _ in range(5):  # warm-up (graph/TF function tracing)
        await agent.parse_message("warm up message")
    preds, confs, lat = [], [], []
    for t in texts:
        t0 = time.perf_counter()
        res = await agent.parse_message(t)
        lat.append((time.perf_counter() - t0) * 1000)
        intent = res.get("intent") or {}
        preds.append(intent.get("name") or FALLBACK)
        ranking = [r for r in res.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        top = ranking[0] if ranking else {"name": preds[-1], "confidence": 0.0}
        second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
        confs.append((top["name"], float(top["confidence"]), second))
    return preds, confs, lat


def plot_confusion(gold: List[str], pred: List[str], rows: List[str], path: Path, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cols = rows + sorted(set(pred) - set(rows))
    m = np.zeros((len(rows), len(cols)), dtype=int)
    for g, p in zip(gold, pred):
        m[rows.index(g), cols.index(p)] += 1
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(cols), 1.5 + 0.6 * len(rows)))
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel("predicted (nlu_fallback counted as out_of_scope)")
    ax.set_ylabel("gold (mapped)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def banking77_rows(split: str) -> List[dict]:
    """`test`, or `dev`: the fixed quarter of BANKING77 train never used for training (tuning)."""
    return b77.read_banking77("test") if split == "test" else b77.read_banking77_dev()


def evaluate_banking77(model: str, out: Path, limit: Optional[int] = None,
                       split: str = "test", nlu: str = "") -> Dict:
    from sklearn.metrics import classification_report, f1_score

    rows = banking77_rows(split)
    if limit:
        rows = rows[:: max(1, len(rows) // limit)]
    texts = [r["text"] for r in rows]
    cats = [r["category"] for r in rows]
    gold = [b77.map_category(c) for c in cats]
    raw_pred, confs, lat = asyncio.run(parse_all(model, texts))
    pred = [b77.OOS if p == FALLBACK else p for p in raw_pred]
    labels = b77.EVAL_INTENTS
    macro = f1_score(gold, pred, labels=labels, average="macro", zero_division=0)
    report = classification_report(gold, pred, labels=labels, output_dict=True, zero_division=0)
    oos_idx = [i for i, g in enumerate(gold) if g == b77.OOS]
    oos_recall = sum(pred[i] == b77.OOS for i in oos_idx) / max(len(oos_idx), 1)
    by_fallback = sum(raw_pred[i] == FALLBACK for i in oos_idx)
    # per BANKING77 category: accuracy and the most common wrong prediction
    per_cat: Dict[str, Dict] = {}
    for c in sorted(set(cats)):
        idx = [i for i, x in enumerate(cats) if x == c]
        wrong: Dict[str, int] = {}
        for i in idx:
            if pred[i] != gold[i]:
                wrong[pred[i]] = wrong.get(pred[i], 0) + 1
        per_cat[c] = {"mapped_to": b77.map_category(c), "n": len(idx),
                      "accuracy": round(sum(pred[i] == gold[i] for i in idx) / len(idx), 3),
                      "wrong_predictions": dict(sorted(wrong.items(), key=lambda kv: -kv[1]))}
    errors = [{"text": texts[i], "category": cats[i], "gold": gold[i], "predicted": raw_pred[i],
               "top_intent": confs[i][0], "confidence": round(confs[i][1], 3)}
              for i in range(len(texts)) if pred[i] != gold[i]]
    # what a different FallbackClassifier threshold would have given (ambiguity_threshold ignored)
    sweep = {}
    for th in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        p2 = [b77.OOS if (c[1] < th or c[0] == b77.OOS) else c[0] for c in confs]
        sweep[str(th)] = {
            "macro_f1": round(f1_score(gold, p2, labels=labels, average="macro", zero_division=0), 4),
            "oos_recall": round(sum(p2[i] == b77.OOS for i in oos_idx) / max(len(oos_idx), 1), 4),
            "billing_recall": round(sum(p2[i] == gold[i] for i in range(len(gold)) if gold[i] != b77.OOS)
                                    / max(1, len(gold) - len(oos_idx)), 4)}
    lat_sorted = sorted(lat)
    res = {
        "split": split,
        "n": len(texts),
        "labels": labels,
        "macro_f1": round(macro, 4),
        "oos_recall": round(oos_recall, 4),
        "oos_caught_by_nlu_fallback": by_fallback,
        "accuracy": round(sum(p == g for p, g in zip(pred, gold)) / len(gold), 4),
        "per_intent": {k: {m: round(v[m], 4) for m in ("precision", "recall", "f1-score", "support")}
                       for k, v in report.items() if k in labels},
        "predicted_label_counts": {p: pred.count(p) for p in sorted(set(pred))},
        "parse_latency_ms": {"p50": round(statistics.median(lat), 2),
                             "p90": round(lat_sorted[int(0.9 * (len(lat) - 1))], 2),
                             "p99": round(lat_sorted[int(0.99 * (len(lat) - 1))], 2),
                             "mean": round(statistics.fmean(lat), 2),
                             "n": len(lat), "how": "Agent.parse_message, in-process, sequential"},
        "fallback_threshold_sweep": sweep,
        "per_category": per_cat,
        "confusion_matrix_png": str(out / "banking77_confusion_matrix.png"),
    }
    (out / "banking77.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    (out / "banking77_errors.json").write_text(json.dumps(errors, indent=2), encoding="utf-8")
    plot_confusion(gold, pred, labels, out / "banking77_confusion_matrix.png",
                   f"BANKING77 {split} -> Northwind intents: macro-F1 {macro:.3f}, "
                   f"OOS recall {oos_recall:.3f}")
    return res


# ----------------------------------------------------------------------------- main
def fmt(x, goal=None):
    if x is None:
        return "-"
    s = f"{x:.3f}"
    if goal is not None:
        s += "  ok" if x >= goal else f"  BELOW goal {goal}"
    return s


def quiet_logs() -> None:
    import logging
    import warnings

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    warnings.filterwarnings("ignore")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(REPO / "config.yml"))
    ap.add_argument("--nlu", default=str(REPO / "data" / "nlu"), help="NLU training data")
    ap.add_argument("--out", default=str(REPO / "results" / "nlu"))
    ap.add_argument("--model", help="use this trained model (.tar.gz) instead of training one")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--skip-cv", action="store_true", help="skip cross-validation (the slow part)")
    ap.add_argument("--skip-banking77", action="store_true",
                    help="skip training/loading a model and the BANKING77 evaluation")
    ap.add_argument("--banking77-limit", type=int, help="evaluate an evenly spaced subset only")
    ap.add_argument("--banking77-split", choices=["test", "dev"], default="test",
                    help="dev = the quarter of BANKING77 train never trained on (tune on "
                         "this, report test)")
    ap.add_argument("--cv-full-pipeline", action="store_true",
                    help="cross-validate the whole pipeline (default: without the components that "
                         "cannot change the intent: sentiment, entities)")
    ap.add_argument("--nlu-only", action="store_true",
                    help="train the NLU pipeline only (default: the full `rasa train` with --domain "
                         "and --data, whose time and size are what the training goal is about)")
    ap.add_argument("--domain", default=str(REPO / "bot" / "domain"))
    ap.add_argument("--data", default=str(REPO / "data"), help="all training data (full train)")
    ap.add_argument("--keep-model", action="store_true", help="copy the trained model into --out")
    ap.add_argument("--check-goals", action="store_true", help="exit 1 if a measured goal is missed")
    args = ap.parse_args(argv)

    quiet_logs()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary: Dict = {"config": str(Path(args.config).resolve()), "nlu_data": args.nlu,
                     "shared_data_dir": str(b77.shared_data_dir()),
                     "examples_per_intent": count_examples(args.nlu)}
    summary["examples_total"] = sum(summary["examples_per_intent"].values())

    if not args.skip_banking77:
        if args.model:
            model = args.model
            summary["model"] = model
        else:
            tr = train_model(args.config, args.nlu, out, full=not args.nlu_only,
                             domain=args.domain, data=args.data)
            model = tr["model"]
            summary["train_time_s"] = tr["train_time_s"]
            summary["trained"] = tr["what"]
            print(f"{tr['what']}: trained in {tr['train_time_s']} s", flush=True)
        summary["model_size_mb"] = round(Path(model).stat().st_size / 1e6, 2)
        print(f"model {model} ({summary['model_size_mb']} MB)", flush=True)
        res = evaluate_banking77(model, out, args.banking77_limit, args.banking77_split)
        summary["banking77"] = {k: res[k] for k in ("split", "n", "macro_f1", "oos_recall", "accuracy",
                                                     "oos_caught_by_nlu_fallback", "per_intent",
                                                     "fallback_threshold_sweep")}
        summary["parse_latency_ms"] = res["parse_latency_ms"]
        if not args.model:
            import shutil
            if args.keep_model:
                shutil.copy(model, out / "model.tar.gz")
            shutil.rmtree(tr["tmp_dir"], ignore_errors=True)

    if not args.skip_cv:
        cv = run_cross_validation(args.config, args.nlu, args.folds, out, args.cv_full_pipeline)
        summary["cv"] = {k: cv[k] for k in ("folds", "macro_f1", "weighted_f1", "accuracy",
                                            "n_examples", "errors_predicted_as_nlu_fallback",
                                            "wall_time_s")}

    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")

    cv_f1 = summary.get("cv", {}).get("macro_f1")
    bk = summary.get("banking77", {})
    print()
    print(f"{'metric':34s} {'value':>8s}")
    print("-" * 60)
    print(f"{'examples (total)':34s} {summary['examples_total']:>8d}")
    print(f"{'CV intent macro-F1 (%d folds)' % args.folds:34s} {fmt(cv_f1, GOALS['cv_macro_f1']):>8s}")
    print(f"{'BANKING77 %s mapped macro-F1' % bk.get('split', 'test'):34s} {fmt(bk.get('macro_f1'), GOALS['banking77_macro_f1']):>8s}")
    print(f"{'BANKING77 %s out-of-scope recall' % bk.get('split', 'test'):34s} {fmt(bk.get('oos_recall'), GOALS['banking77_oos_recall']):>8s}")
    if "train_time_s" in summary:
        label = "NLU train time (s)" if summary.get("trained", "").endswith("nlu") else \
            "full rasa train time (s)"
        t = summary["train_time_s"]
        verdict = "" if not label.startswith("full") else (
            "  ok" if t <= MAX_TRAIN_TIME_S else f"  ABOVE goal {MAX_TRAIN_TIME_S:.0f}")
        print(f"{label:34s} {t:>8.1f}{verdict}")
    if "model_size_mb" in summary:
        print(f"{'model size (MB)':34s} {summary['model_size_mb']:>8.2f}")
    if "parse_latency_ms" in summary:
        lat = summary["parse_latency_ms"]
        print(f"{'parse latency p50 / p90 (ms)':34s} {lat['p50']:>8.1f} / {lat['p90']:.1f}")
    print(f"\nwritten to {out}/ (summary.json, banking77.json, cv.json, *confusion_matrix.png)")

    if args.check_goals:
        missed = [k for k, v in (("cv_macro_f1", cv_f1), ("banking77_macro_f1", bk.get("macro_f1")),
                                 ("banking77_oos_recall", bk.get("oos_recall")))
                  if v is not None and v < GOALS[k]]
        if missed:
            print("goals missed:", ", ".join(missed))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
