"""Metrics for the sentiment model (used by ``scripts/eval_sentiment.py``)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bot.nlu.sentiment.corpus import (
    GOEMOTIONS_ANGER_ANNOYANCE,
    GOEMOTIONS_LABELS,
    GOEMOTIONS_NEGATIVE,
    GOEMOTIONS_POSITIVE,
    read_goemotions,
    read_vader,
)
from bot.nlu.sentiment.types import SentimentResult

GOLD_GROUPS = ("negative", "positive", "ambiguous", "neutral")
GOLD_TONES = ("anger", "annoyance", "other negative", "not negative")


def binary_scores(gold: Sequence[int], pred: Sequence[int]) -> Dict[str, float]:
    g = np.asarray(gold, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    tp = float((g & p).sum())
    precision = tp / p.sum() if p.sum() else 0.0
    recall = tp / g.sum() if g.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "f1": round(f1, 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "support": int(g.sum()),
        "predicted": int(p.sum()),
    }


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(x, y).correlation)


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    scores = []
    for label in labels:
        scores.append(
            binary_scores([g == label for g in gold], [p == label for p in pred])["f1"]
        )
    return round(float(np.mean(scores)), 4)


def confusion(
    gold: Sequence[str], pred: Sequence[str], gold_labels: Sequence[str], pred_labels: Sequence[str]
) -> List[List[int]]:
    matrix = [[0] * len(pred_labels) for _ in gold_labels]
    gi = {g: i for i, g in enumerate(gold_labels)}
    pi = {p: i for i, p in enumerate(pred_labels)}
    for g, p in zip(gold, pred):
        matrix[gi[g]][pi[p]] += 1
    return matrix


def gold_group(emotions: Sequence[str]) -> str:
    names = set(emotions)
    if names & GOEMOTIONS_NEGATIVE:
        return "negative"
    if names & GOEMOTIONS_POSITIVE:
        return "positive"
    if names - {"neutral"}:
        return "ambiguous"
    return "neutral"


def gold_tone(emotions: Sequence[str]) -> str:
    names = set(emotions)
    if "anger" in names:
        return "anger"
    if "annoyance" in names:
        return "annoyance"
    if names & GOEMOTIONS_NEGATIVE:
        return "other negative"
    return "not negative"


@dataclass
class GoEmotionsData:
    texts: List[str]
    emotions: List[Tuple[str, ...]]

    @classmethod
    def read(cls, path: Path, labels_path: Optional[Path] = None) -> "GoEmotionsData":
        names = GOEMOTIONS_LABELS
        if labels_path is not None and labels_path.exists():
            names = labels_path.read_text(encoding="utf-8").split()
        texts, emotions = [], []
        for text, emo, _ in read_goemotions(path, names):
            texts.append(text)
            emotions.append(emo)
        return cls(texts, emotions)


def goemotions_report(
    data: GoEmotionsData, results: Sequence[SentimentResult]
) -> Dict[str, object]:
    gold_neg = [int(bool(set(e) & GOEMOTIONS_NEGATIVE)) for e in data.emotions]
    gold_aa = [int(bool(set(e) & GOEMOTIONS_ANGER_ANNOYANCE)) for e in data.emotions]
    gold_pos = [int(bool(set(e) & GOEMOTIONS_POSITIVE)) for e in data.emotions]
    pred_neg = [int(r["label"] == "negative") for r in results]
    pred_aa = [int(r["tone"] != "calm") for r in results]
    pred_pos = [int(r["label"] == "positive") for r in results]
    groups = [gold_group(e) for e in data.emotions]
    tones = [gold_tone(e) for e in data.emotions]
    return {
        "n": len(results),
        "negative_group": binary_scores(gold_neg, pred_neg),
        "anger_or_annoyance": binary_scores(gold_aa, pred_aa),
        "positive_group": binary_scores(gold_pos, pred_pos),
        "confusion_label": {
            "rows_gold": list(GOLD_GROUPS),
            "cols_pred": ["negative", "neutral", "positive"],
            "matrix": confusion(
                groups, [r["label"] for r in results], GOLD_GROUPS, ["negative", "neutral", "positive"]
            ),
        },
        "confusion_tone": {
            "rows_gold": list(GOLD_TONES),
            "cols_pred": ["calm", "frustrated", "angry"],
            "matrix": confusion(
                tones, [r["tone"] for r in results], GOLD_TONES, ["calm", "frustrated", "angry"]
            ),
        },
    }


def vader_tool_results(texts: Sequence[str]) -> Optional[List[SentimentResult]]:
    """The VADER tool (``vaderSentiment``) mapped to our schema, if installed.

    compound <= -0.05 -> negative and "frustrated" (VADER has no anger notion,
    so any negative reading counts as upset); >= 0.05 -> positive.
    """
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()
    out: List[SentimentResult] = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        label = "negative" if compound <= -0.05 else "positive" if compound >= 0.05 else "neutral"
        tone = "frustrated" if label == "negative" else "calm"
        out.append({"label": label, "score": compound, "tone": tone})  # type: ignore[typeddict-item]
    return out


def vader_ratings_report(
    ratings: Sequence[float],
    gold3: Sequence[str],
    results: Sequence[SentimentResult],
) -> Dict[str, object]:
    scores = [r["score"] for r in results]
    labels = [r["label"] for r in results]
    accuracy = float(np.mean([g == p for g, p in zip(gold3, labels)])) if labels else math.nan
    return {
        "n": len(results),
        "pearson_r_score_vs_mean_rating": round(pearson(scores, ratings), 4),
        "spearman_rho": round(spearman(scores, ratings), 4),
        "accuracy_3class_vs_label3_thresh0.5": round(accuracy, 4),
        "macro_f1_3class": macro_f1(gold3, labels, ("negative", "neutral", "positive")),
    }


def read_vader_split(path: Path, heldout: bool) -> Tuple[List[str], List[float], List[str]]:
    """Rows of a VADER file in the corpus' heldout (or train) split."""
    from bot.nlu.sentiment.corpus import VADER_HELDOUT_PERCENT, _bucket

    texts, ratings, labels = [], [], []
    for text, rating, label3, row_id in read_vader(path):
        in_heldout = _bucket(f"{path.name}:{row_id}") < VADER_HELDOUT_PERCENT
        if in_heldout == heldout:
            texts.append(text)
            ratings.append(rating)
            labels.append(label3)
    return texts, ratings, labels


def plot_confusions(report: Dict[str, object], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, name in (
        (axes[0], "confusion_label", "label vs GoEmotions sentiment group"),
        (axes[1], "confusion_tone", "tone vs GoEmotions anger/annoyance"),
    ):
        block = report[key]  # type: ignore[index]
        matrix = np.array(block["matrix"], dtype=float)
        row_share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(row_share, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(block["cols_pred"])))
        ax.set_xticklabels(block["cols_pred"])
        ax.set_yticks(range(len(block["rows_gold"])))
        ax.set_yticklabels(block["rows_gold"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(name, fontsize=10)
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{int(matrix[i, j])}\n{row_share[i, j]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if row_share[i, j] > 0.5 else "black",
                )
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
