#!/usr/bin/env python
"""Evaluate the sentiment component.

Trains the model from the shipped corpus (``data/sentiment``) exactly as the
Rasa component does (or loads one with ``--model``), then reports

* GoEmotions **dev** (read from ``$SHARED_DATA_DIR/goemotions/dev.tsv``, never
  used for training or tuning): negative-group F1 (label == negative) and
  anger-or-annoyance F1 (tone in {frustrated, angry}), plus the VADER tool on
  the same rows if ``vaderSentiment`` is installed;
* agreement with the VADER human ratings on the 20 % of the VADER ground truth
  that the corpus holds out from training (Pearson r of score vs mean rating,
  3-class accuracy vs ``label3_thresh0.5``);
* optionally (``--billing-folds K``) K-fold cross-validated accuracy on the
  hand-written billing messages (retrains K times).

Writes ``metrics.json`` and confusion-matrix PNGs into ``--out``.

    RASA_TELEMETRY_ENABLED=false PYTHONPATH=. .venv/bin/python \
        scripts/eval_sentiment.py --out results/sentiment/
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import zlib
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bot.nlu.sentiment import evaluation as ev  # noqa: E402
from bot.nlu.sentiment.corpus import (  # noqa: E402
    VADER_FILES,
    default_corpus_dir,
    load_corpus,
    shared_data_dir,
)
from bot.nlu.sentiment.model import SentimentModel  # noqa: E402
from bot.nlu.sentiment.training import TrainingParams, train_model  # noqa: E402


def billing_cross_validation(corpus_dir: Path, folds: int) -> Dict[str, object]:
    examples = load_corpus(corpus_dir)
    params = TrainingParams()
    gold_label: List[str] = []
    gold_tone: List[str] = []
    pred_label: List[str] = []
    pred_tone: List[str] = []
    for fold in range(folds):
        held, rest = [], []
        for e in examples:
            if e.source == "billing" and zlib.crc32(e.text.encode()) % folds == fold:
                held.append(e)
            else:
                rest.append(e)
        model = train_model(corpus_dir, params, examples=rest)
        for e in held:
            result = model.predict(e.text)
            gold_label.append(
                "negative" if e.targets["negative"] else "positive" if e.targets["positive"] else "neutral"
            )
            gold_tone.append(
                "angry" if e.targets["anger"] else "frustrated" if e.targets["anger_annoyance"] else "calm"
            )
            pred_label.append(result["label"])
            pred_tone.append(result["tone"])
    n = len(gold_label)
    return {
        "folds": folds,
        "n": n,
        "label_accuracy": round(sum(g == p for g, p in zip(gold_label, pred_label)) / n, 4),
        "label_macro_f1": ev.macro_f1(gold_label, pred_label, ("negative", "neutral", "positive")),
        "tone_accuracy": round(sum(g == p for g, p in zip(gold_tone, pred_tone)) / n, 4),
        "upset_vs_calm": ev.binary_scores(
            [g != "calm" for g in gold_tone], [p != "calm" for p in pred_tone]
        ),
        "calm_neutral_messages_read_calm": round(
            sum(
                1
                for gl, gt, pt in zip(gold_label, gold_tone, pred_tone)
                if gl == "neutral" and gt == "calm" and pt == "calm"
            )
            / max(1, sum(1 for gl, gt in zip(gold_label, gold_tone) if gl == "neutral" and gt == "calm")),
            4,
        ),
        "confusion_tone": {
            "rows_gold": ["calm", "frustrated", "angry"],
            "cols_pred": ["calm", "frustrated", "angry"],
            "matrix": ev.confusion(
                gold_tone, pred_tone, ["calm", "frustrated", "angry"], ["calm", "frustrated", "angry"]
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "sentiment")
    parser.add_argument("--model", type=Path, default=None, help="load a saved model dir")
    parser.add_argument("--save-model", type=Path, default=None)
    parser.add_argument("--corpus-dir", type=Path, default=None)
    parser.add_argument("--shared-data-dir", type=Path, default=None)
    parser.add_argument("--billing-folds", type=int, default=0)
    args = parser.parse_args()

    if args.shared_data_dir:
        os.environ["SHARED_DATA_DIR"] = str(args.shared_data_dir)
    shared = shared_data_dir()
    corpus_dir = args.corpus_dir or default_corpus_dir()
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    if args.model:
        model = SentimentModel.load(args.model).with_own_encoder()
        train_seconds = None
    else:
        model = train_model(corpus_dir)
        train_seconds = round(time.perf_counter() - started, 2)
    if args.save_model:
        model.save(args.save_model)

    metrics: Dict[str, object] = {
        "model": {
            "thresholds": model.thresholds.as_dict(),
            "info": model.info,
            "train_seconds_wall": train_seconds,
        }
    }

    dev_path = shared / "goemotions" / "dev.tsv"
    dev = ev.GoEmotionsData.read(dev_path, shared / "goemotions" / "labels.txt")
    results = model.predict_many(dev.texts)
    metrics["goemotions_dev"] = ev.goemotions_report(dev, results)
    ev.plot_confusions(
        metrics["goemotions_dev"],  # type: ignore[arg-type]
        f"SentimentAnalyzer on GoEmotions dev (n={len(dev.texts)})",
        args.out / "confusion_goemotions_dev.png",
    )
    vader_dev = ev.vader_tool_results(dev.texts)
    if vader_dev is not None:
        metrics["goemotions_dev_vader_baseline"] = ev.goemotions_report(dev, vader_dev)
        ev.plot_confusions(
            metrics["goemotions_dev_vader_baseline"],  # type: ignore[arg-type]
            f"VADER (compound ±0.05) on GoEmotions dev (n={len(dev.texts)})",
            args.out / "confusion_goemotions_dev_vader.png",
        )

    agreement: Dict[str, object] = {}
    all_texts, all_ratings, all_gold = [], [], []
    for file_name in VADER_FILES:
        texts, ratings, gold = ev.read_vader_split(corpus_dir / file_name, heldout=True)
        all_texts += texts
        all_ratings += ratings
        all_gold += gold
        key = file_name.replace("_groundtruth.tsv", "")
        agreement[key] = ev.vader_ratings_report(ratings, gold, model.predict_many(texts))
        tool = ev.vader_tool_results(texts)
        if tool is not None:
            agreement[key + "__vader_tool"] = ev.vader_ratings_report(ratings, gold, tool)
    agreement["all"] = ev.vader_ratings_report(all_ratings, all_gold, model.predict_many(all_texts))
    tool = ev.vader_tool_results(all_texts)
    if tool is not None:
        agreement["all__vader_tool"] = ev.vader_ratings_report(all_ratings, all_gold, tool)
    metrics["vader_ratings_heldout"] = agreement

    if args.billing_folds > 1:
        metrics["billing_cross_validation"] = billing_cross_validation(corpus_dir, args.billing_folds)

    with open(args.out / "metrics.json", "w", encoding="utf-8") as handle:
        json.dump(metrics, handle, indent=2)

    dev_report = metrics["goemotions_dev"]
    base = metrics.get("goemotions_dev_vader_baseline")
    a = agreement["all"]
    tool_all = agreement.get("all__vader_tool")

    def cell(report, *keys) -> str:
        if report is None:
            return "n/a"
        for key in keys:
            report = report[key]  # type: ignore[index]
        return f"{report:.3f}"

    rows = [
        (f"GoEmotions dev (n={dev_report['n']}): negative-group F1", "goal >= 0.70",  # type: ignore[index]
         cell(dev_report, "negative_group", "f1"), cell(base, "negative_group", "f1")),
        ("GoEmotions dev: anger-or-annoyance F1 (tone != calm)", "goal >= 0.50",
         cell(dev_report, "anger_or_annoyance", "f1"), cell(base, "anger_or_annoyance", "f1")),
        ("GoEmotions dev: positive-group F1", "",
         cell(dev_report, "positive_group", "f1"), cell(base, "positive_group", "f1")),
        (f"VADER ratings, held-out 20% (n={a['n']}): Pearson r", "",  # type: ignore[index]
         cell(a, "pearson_r_score_vs_mean_rating"), cell(tool_all, "pearson_r_score_vs_mean_rating")),
        ("VADER ratings, held-out: 3-class accuracy", "",
         cell(a, "accuracy_3class_vs_label3_thresh0.5"),
         cell(tool_all, "accuracy_3class_vs_label3_thresh0.5")),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'':<12}  {'ours':>6}  {'VADER':>6}")
    for name, goal, ours, vader in rows:
        print(f"{name:<{width}}  {goal:<12}  {ours:>6}  {vader:>6}")
    if base is None:
        print("(VADER baseline skipped: pip install vaderSentiment==3.3.2)")
    if "billing_cross_validation" in metrics:
        b = metrics["billing_cross_validation"]
        print(f"Billing messages {b['folds']}-fold CV (n={b['n']}): label acc {b['label_accuracy']:.3f}, "  # type: ignore[index]
              f"tone acc {b['tone_accuracy']:.3f}, upset-vs-calm F1 {b['upset_vs_calm']['f1']:.3f}")  # type: ignore[index]
    if train_seconds is not None:
        print(f"training time {train_seconds:.1f} s")
    print(f"wrote {args.out / 'metrics.json'}")


if __name__ == "__main__":
    main()
