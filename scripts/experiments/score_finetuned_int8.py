"""Score the fine-tuned encoder of ``make finetune-experiment`` through the assistant's own int8 graph.

    PYTHONPATH=. .venv/bin/python scripts/experiments/score_finetuned_int8.py [results/finetune]

Builds ``bot/nlu/encoder``'s int8 ONNX graph from ``<folder>/encoder`` (the exported weights), encodes
one text per call as serving does, applies the fine-tuned heads, chooses each threshold on the same
4,000 held-out train comments as the fine-tuning script (seed 0) and prints GoEmotions dev F1 at it.
Writes ``<folder>/metrics_int8.json``.
"""
from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu.sentiment.corpus import (  # noqa: E402
    GOEMOTIONS_ANGER_ANNOYANCE,
    GOEMOTIONS_NEGATIVE,
    GOEMOTIONS_POSITIVE,
    shared_data_dir,
)
from bot.nlu.sentiment.evaluation import GoEmotionsData, binary_scores  # noqa: E402

HEADS = ("negative", "anger_annoyance", "positive")
GROUPS = (GOEMOTIONS_NEGATIVE, GOEMOTIONS_ANGER_ANNOYANCE, GOEMOTIONS_POSITIVE)
CALIBRATION = 4000


def load(path: Path, labels: Path) -> tuple:
    """Texts and, per head, whether each comment's emotions fall in its group (the project's reader)."""
    data = GoEmotionsData.read(path, labels)
    return data.texts, np.array([[bool(set(emotions) & group) for group in GROUPS] for emotions in data.emotions])


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    return binary_scores(gold, predicted)["f1"]


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "results" / "finetune")
    os.environ["NLU_ENCODER_DIR"] = str(folder / "encoder")
    from bot.nlu.encoder.runtime import encoder_from_weights

    texts, gold = load(ROOT / "data" / "sentiment" / "goemotions_train.tsv",
                       ROOT / "data" / "sentiment" / "goemotions_labels.txt")
    dev_texts, dev_gold = load(shared_data_dir() / "goemotions" / "dev.tsv", shared_data_dir() / "goemotions" / "labels.txt")
    order = list(range(len(texts)))
    random.seed(0)  # the fine-tuning script's split
    random.shuffle(order)
    calibration = order[:CALIBRATION]
    encoder = encoder_from_weights()
    weight = np.load(folder / "encoder" / "head_weight.npy")
    bias = np.load(folder / "encoder" / "head_bias.npy")

    def probabilities(batch: list) -> np.ndarray:
        vectors = np.stack([encoder.encode_one(text) for text in batch])
        return 1.0 / (1.0 + np.exp(-(vectors @ weight.T + bias)))

    cal_p, dev_p = probabilities([texts[i] for i in calibration]), probabilities(dev_texts)
    metrics = {}
    for k, name in enumerate(HEADS):
        cal_f1, threshold = max((f1(cal_p[:, k] >= t, gold[calibration][:, k]), float(t))
                                for t in np.arange(0.05, 0.95, 0.01))
        metrics[name] = {"threshold": round(threshold, 2), "calibration_f1": round(cal_f1, 3),
                         "dev_f1": round(f1(dev_p[:, k] >= threshold, dev_gold[:, k]), 3)}
        print(f"int8 {name:16} threshold {threshold:.2f} (calibration F1 {cal_f1:.3f}) -> GoEmotions dev F1 "
              f"{metrics[name]['dev_f1']:.3f}", flush=True)
    (folder / "metrics_int8.json").write_text(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
