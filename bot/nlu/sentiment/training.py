"""Training the sentiment model from the shipped corpus.

Usage (model selection on the calibration slice of GoEmotions *train*; the
GoEmotions dev split is never touched here)::

    python -m bot.nlu.sentiment.training --out /tmp/sentiment_model
    python -m bot.nlu.sentiment.training --select   # small hyper-parameter grid
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp

from bot.nlu.sentiment import text as tx
from bot.nlu.sentiment.corpus import Example, load_corpus, load_lexicon_file
from bot.nlu.sentiment.model import SentimentModel, Thresholds, _Block
from bot.nlu.sentiment.types import HEADS

logger = logging.getLogger(__name__)


@dataclass
class TrainingParams:
    """Hyper-parameters (defaults chosen with ``--select`` on train data only)."""

    word_ngram_range: Tuple[int, int] = (1, 2)
    char_ngram_range: Tuple[int, int] = (2, 5)
    word_min_df: int = 2
    char_min_df: int = 3
    C: Dict[str, float] = field(
        default_factory=lambda: {
            "negative": 1.0,
            "positive": 1.0,
            "anger_annoyance": 1.0,
            "anger": 1.0,
        }
    )
    # NB log-count-ratio scaling: +0.004 / +0.010 F1 for the negative / anger
    # heads on the calibration slice (held-out 15 % of GoEmotions train); no gain
    # for positive. Not for anger_annoyance: +0.017 there, but with less data it
    # blows up billing n-grams ("thanks, that fixed it" read frustrated by a
    # model trained on 3,000 / 10,000 GoEmotions rows).
    nb_scaling: Dict[str, bool] = field(
        default_factory=lambda: {
            "negative": True,
            "positive": False,
            "anger_annoyance": False,
            "anger": True,
        }
    )
    dense_scale: float = 1.0
    # weight of the sentence encoder's vector block (bot/nlu/encoder); 0 = no encoder. 2.0 over 1.0
    # on the calibration slice (negative 0.657 vs 0.656, anger-or-annoyance 0.476 vs 0.475; without
    # the vector 0.650 / 0.465)
    encoder_scale: float = 2.0
    billing_weight: float = 12.0
    vader_weight: float = 1.0
    use_vader: bool = True
    use_billing: bool = True
    tone_implies_negative: bool = True
    # F-beta used for the anger threshold: 0.5 = "angry" must be precise (on the
    # calibration slice F1-optimal thresholds made 2 of 3 "angry" calls wrong)
    anger_beta: float = 0.5
    n_jobs: int = 2

    @classmethod
    def from_config(cls, config: Dict[str, object]) -> "TrainingParams":
        params = cls()
        for key, value in config.items():
            if not hasattr(params, key):
                continue
            if key in ("C", "nb_scaling") and isinstance(value, dict):
                merged = dict(getattr(params, key))
                merged.update(value)
                value = merged
            elif key in ("C",) and isinstance(value, (int, float)):
                value = {head: float(value) for head in HEADS}
            elif key.endswith("ngram_range"):
                value = tuple(value)  # type: ignore[arg-type]
            setattr(params, key, value)
        return params


@dataclass
class _Features:
    word: sp.csr_matrix
    char: sp.csr_matrix
    dense: np.ndarray
    vector: Optional[np.ndarray] = None  # sentence encoder, one unit-length row per text

    def stacked(self, dense_scale: float, vector_scale: float = 1.0) -> sp.csr_matrix:
        blocks = [self.word, self.char, sp.csr_matrix(self.dense * dense_scale)]
        if self.vector is not None:
            blocks.append(sp.csr_matrix(self.vector * vector_scale))
        return sp.hstack(blocks, format="csr")


def _make_vectorizer(analyzer, min_df: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer=analyzer,
        min_df=min_df,
        sublinear_tf=True,
        norm="l2",
        dtype=np.float64,
    )


def _dense_matrix(raws: Sequence[str], norms: Sequence[str], lexicon) -> np.ndarray:
    return np.array(
        [tx.dense_features(r, n, lexicon) for r, n in zip(raws, norms)],
        dtype=np.float64,
    ).reshape(len(raws), len(tx.DENSE_FEATURES))


def _nb_ratios(X: sp.csr_matrix, y: np.ndarray, n_sparse: int) -> np.ndarray:
    """Log-count ratios (Wang & Manning 2012) on binarised sparse features."""
    binary = X[:, :n_sparse].copy()
    binary.data = np.ones_like(binary.data)
    p = np.asarray(binary[y == 1].sum(axis=0)).ravel() + 1.0
    q = np.asarray(binary[y == 0].sum(axis=0)).ravel() + 1.0
    r = np.log((p / p.sum()) / (q / q.sum()))
    return np.concatenate([r, np.ones(X.shape[1] - n_sparse)])


def _fit_head(
    X: sp.csr_matrix,
    y: np.ndarray,
    weights: np.ndarray,
    C: float,
    nb: bool,
    n_sparse: int,
) -> Tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    scale = _nb_ratios(X, y, n_sparse) if nb else np.ones(X.shape[1])
    Xs = X @ sp.diags(scale) if nb else X
    clf = LogisticRegression(C=C, solver="liblinear", max_iter=200)
    clf.fit(Xs, y, sample_weight=weights)
    return clf.coef_.ravel() * scale, float(clf.intercept_[0])


_THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)
# F1 is flat near its maximum; the middle of the near-optimal plateau is a much
# more stable choice across samples than the arg-max itself.
_PLATEAU_TOLERANCE = 0.005


def _f1(pred: np.ndarray, y: np.ndarray, beta: float = 1.0) -> float:
    """F-beta of boolean predictions ``pred`` against 0/1 targets ``y``."""
    tp = float((pred & (y == 1)).sum())
    b2 = beta * beta
    denom = float(pred.sum() + b2 * y.sum())
    return (1 + b2) * tp / denom if denom else 0.0


def _plateau_threshold(f1s: Sequence[float]) -> Tuple[float, float]:
    """Median grid threshold among those within the tolerance of the best F1."""
    scores = np.asarray(f1s, dtype=float)
    best = float(scores.max())
    near = _THRESHOLD_GRID[scores >= best - _PLATEAU_TOLERANCE]
    chosen = float(near[len(near) // 2])
    return chosen, float(scores[int(np.argmin(np.abs(_THRESHOLD_GRID - chosen)))])


def _best_f1_threshold(
    y: np.ndarray, p: np.ndarray, beta: float = 1.0
) -> Tuple[float, float]:
    """Threshold on a 0.01 grid (plateau centre) maximising F-beta of ``p >= t``."""
    return _plateau_threshold([_f1(p >= t, y, beta) for t in _THRESHOLD_GRID])


def tune_thresholds(
    probabilities: np.ndarray,
    targets: Dict[str, np.ndarray],
    tone_implies_negative: bool,
    anger_beta: float = 1.0,
) -> Tuple[Thresholds, Dict[str, float]]:
    """Choose thresholds on calibration data, in the order the decision uses them.

    ``anger_beta`` < 1 weights precision of the "angry" tone higher than recall
    (angry drives escalation to a human); the anger-or-annoyance threshold is
    then chosen for F1 of the combined "not calm" decision.
    """
    p_neg, p_pos, p_aa, p_anger = (probabilities[:, i] for i in range(4))
    # "angry" needs the anger head above a precise threshold; above the lower,
    # F1-optimal one the message is at least frustrated
    t_anger, f_anger = _best_f1_threshold(targets["anger"], p_anger, anger_beta)
    t_anger_upset, _ = _best_f1_threshold(targets["anger"], p_anger)
    t_anger_upset = min(t_anger_upset, t_anger)
    # non-calm = anger head fires (lower threshold) OR anger/annoyance head fires
    angry = p_anger >= t_anger_upset
    t_aa, f_aa = _plateau_threshold(
        [_f1((p_aa >= t) | angry, targets["anger_annoyance"]) for t in _THRESHOLD_GRID]
    )
    non_calm = (p_aa >= t_aa) | angry
    upset = non_calm if tone_implies_negative else np.zeros_like(non_calm)
    t_neg, f_neg = _plateau_threshold(
        [_f1((p_neg >= t) | upset, targets["negative"]) for t in _THRESHOLD_GRID]
    )
    t_pos, f_pos = _best_f1_threshold(targets["positive"], np.where(non_calm, 0.0, p_pos))
    thresholds = Thresholds(
        negative=t_neg,
        positive=t_pos,
        anger_annoyance=t_aa,
        anger=t_anger,
        anger_upset=t_anger_upset,
    )
    scores = {
        "negative_f1": round(f_neg, 4),
        "positive_f1": round(f_pos, 4),
        "anger_annoyance_f1": round(f_aa, 4),
        f"anger_f{anger_beta:g}": round(f_anger, 4),
    }
    return thresholds, scores


def train_model(
    corpus_dir: Optional[Path] = None,
    params: Optional[TrainingParams] = None,
    examples: Optional[List[Example]] = None,
    max_train_examples: Optional[int] = None,
    encoder=None,
) -> SentimentModel:
    """Fit all heads on the ``train`` split and tune thresholds on ``calibration``.

    ``max_train_examples`` subsamples the GoEmotions training rows (tests only). ``encoder`` (a
    ``bot.nlu.encoder.runtime.SentenceEncoder``; default: built from the weights) supplies the
    sentence vectors when ``params.encoder_scale`` is not 0; they are cached on disk
    (``bot.nlu.encoder.cache``).
    """
    params = params or TrainingParams()
    started = time.perf_counter()
    if examples is None:
        examples = load_corpus(
            corpus_dir,
            billing_weight=params.billing_weight,
            vader_weight=params.vader_weight,
        )
    lexicon = load_lexicon_file(corpus_dir)

    train = [
        e
        for e in examples
        if e.split == "train"
        and (params.use_vader or e.source != "vader")
        and (params.use_billing or e.source != "billing")
    ]
    if max_train_examples is not None:
        goemotions = [e for e in train if e.source == "goemotions"][:max_train_examples]
        train = goemotions + [e for e in train if e.source != "goemotions"]
    calibration = [e for e in examples if e.split == "calibration"]
    if max_train_examples is not None:
        calibration = calibration[: max(500, max_train_examples // 4)]

    raw_train = [e.text for e in train]
    norm_train = [tx.normalise(t) for t in raw_train]
    raw_cal = [e.text for e in calibration]
    vector_train = vector_cal = None
    if params.encoder_scale:
        from bot.nlu.encoder.cache import encode_cached
        from bot.nlu.encoder.runtime import encoder_from_weights

        encoder = encoder or encoder_from_weights()
        vectors = encode_cached(encoder, raw_train + raw_cal, workers=max(1, params.n_jobs))
        vector_train, vector_cal = vectors[: len(raw_train)], vectors[len(raw_train):]
    encoded = time.perf_counter()
    word_vec = _make_vectorizer(
        partial(tx.word_ngrams, ngram_range=params.word_ngram_range), params.word_min_df
    )
    char_vec = _make_vectorizer(
        partial(tx.char_ngrams, ngram_range=params.char_ngram_range), params.char_min_df
    )
    features = _Features(
        word=word_vec.fit_transform(norm_train),
        char=char_vec.fit_transform(norm_train),
        dense=_dense_matrix(raw_train, norm_train, lexicon),
        vector=vector_train,
    )
    X = features.stacked(params.dense_scale, params.encoder_scale)
    n_word = features.word.shape[1]
    n_sparse = n_word + features.char.shape[1]
    n_dense = features.dense.shape[1]
    vectorised = time.perf_counter()

    def fit(head: str) -> Tuple[np.ndarray, float]:
        rows = np.array([e.targets.get(head) is not None for e in train])
        y = np.array([e.targets[head] for e, keep in zip(train, rows) if keep], dtype=int)
        w = np.array([e.weight for e, keep in zip(train, rows) if keep], dtype=float)
        return _fit_head(
            X[rows], y, w, params.C[head], params.nb_scaling[head], n_sparse
        )

    if params.n_jobs and params.n_jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=params.n_jobs) as pool:
            fitted = list(pool.map(fit, HEADS))
    else:
        fitted = [fit(head) for head in HEADS]
    coef = np.column_stack([c for c, _ in fitted])  # (n_features, n_heads)
    intercepts = np.array([b for _, b in fitted])
    fitted_at = time.perf_counter()

    dense_weights = coef[n_sparse:n_sparse + n_dense] * params.dense_scale
    vector_weights = coef[n_sparse + n_dense:] * params.encoder_scale if vector_train is not None else None
    model = SentimentModel(
        word=_Block(dict(word_vec.vocabulary_), word_vec.idf_.copy(), coef[:n_word]),
        char=_Block(
            dict(char_vec.vocabulary_), char_vec.idf_.copy(), coef[n_word:n_sparse]
        ),
        dense_weights=dense_weights,
        intercepts=intercepts,
        lexicon=lexicon,
        word_ngram_range=params.word_ngram_range,
        char_ngram_range=params.char_ngram_range,
        tone_implies_negative=params.tone_implies_negative,
        vector_weights=vector_weights,
        encoder=encoder if vector_train is not None else None,
    )

    # thresholds on the calibration slice (held-out GoEmotions *train* rows)
    norm_cal = [tx.normalise(t) for t in raw_cal]
    X_cal = _Features(
        word=word_vec.transform(norm_cal),
        char=char_vec.transform(norm_cal),
        dense=_dense_matrix(raw_cal, norm_cal, lexicon),
        vector=vector_cal,
    ).stacked(1.0)
    full_coef = np.vstack([coef[:n_sparse], dense_weights]
                          + ([vector_weights] if vector_weights is not None else []))
    logits = np.asarray(X_cal @ full_coef) + intercepts
    probabilities = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
    targets = {
        head: np.array([e.targets[head] for e in calibration], dtype=int) for head in HEADS
    }
    model.thresholds, calibration_scores = tune_thresholds(
        probabilities, targets, params.tone_implies_negative, params.anger_beta
    )
    finished = time.perf_counter()

    model.info = {
        "params": _jsonable(asdict(params)),
        "n_train": len(train),
        "n_train_by_source": {
            s: sum(1 for e in train if e.source == s) for s in ("goemotions", "vader", "billing")
        },
        "n_calibration": len(calibration),
        "n_word_features": int(n_word),
        "n_char_features": int(features.char.shape[1]),
        "calibration_scores": calibration_scores,
        "seconds": {
            "encode": round(encoded - started, 2),
            "vectorise": round(vectorised - encoded, 2),
            "fit_heads": round(fitted_at - vectorised, 2),
            "calibrate": round(finished - fitted_at, 2),
            "total": round(finished - started, 2),
        },
    }
    logger.info("Trained sentiment model: %s", model.info)
    return model


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _selection_grid() -> Iterable[Tuple[str, TrainingParams]]:
    base = TrainingParams()
    yield "default", base
    for C in (0.5, 2.0):
        yield f"C={C}", replace(base, C={h: C for h in HEADS})
    yield "no-nb", replace(base, nb_scaling={h: False for h in HEADS})
    yield "all-nb", replace(base, nb_scaling={h: True for h in HEADS})
    yield "no-vader", replace(base, use_vader=False)
    yield "dense_scale=3", replace(base, dense_scale=3.0)
    yield "char(1,5)", replace(base, char_ngram_range=(1, 5))


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None, help="save the model here")
    parser.add_argument("--select", action="store_true", help="run the selection grid")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)

    if args.select:
        examples = load_corpus(args.corpus_dir)
        for name, params in _selection_grid():
            model = train_model(args.corpus_dir, params, examples=examples)
            print(name, json.dumps(model.info["calibration_scores"]),
                  json.dumps(model.thresholds.as_dict()),
                  model.info["seconds"]["total"], flush=True)
        return
    model = train_model(args.corpus_dir)
    print(json.dumps(model.info, indent=2))
    print(json.dumps(model.thresholds.as_dict()))
    if args.out:
        model.save(args.out)


if __name__ == "__main__":
    main()
