"""The trained sentiment model: sparse linear heads with a fast single-text path.

Features are three blocks, each produced by :mod:`bot.nlu.sentiment.text`:

1. word 1-2 gram TF-IDF (sublinear tf, L2-normalised within the block),
2. character 2-5 gram TF-IDF inside word boundaries (same weighting),
3. a handful of dense surface / lexicon cues (caps, ``!!!``, swearing, ...).

Each head is a binary logistic regression over the concatenation; Naive-Bayes
feature scaling (if used in training) is folded into the stored weights. At
inference we never build a scipy matrix: the n-grams of one message are looked
up in a dict, TF-IDF weighted, normalised, and dotted with the weight rows,
which keeps a prediction well below a millisecond.

Persistence is plain ``numpy.savez`` + JSON (no pickle), so loading a model
cannot execute code.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bot.nlu.sentiment import text as tx
from bot.nlu.sentiment.types import HEADS, Label, SentimentResult, Tone

FORMAT_VERSION = 1
# highest score a message of each tone can get (see SentimentModel.decide)
_TONE_SCORE_CEILING: Dict[str, float] = {"calm": 1.0, "frustrated": -0.5, "angry": -0.75}
WEIGHTS_FILE = "sentiment_weights.npz"
META_FILE = "sentiment_meta.json"


@dataclass
class Thresholds:
    """Decision thresholds on head probabilities (tuned on held-out train data)."""

    negative: float = 0.5
    positive: float = 0.5
    anger_annoyance: float = 0.5
    anger: float = 0.5  # anger head at or above: tone "angry"
    # anger head at or above (but below ``anger``): at least "frustrated";
    # None = same as ``anger`` (models saved before this threshold existed)
    anger_upset: Optional[float] = None

    def as_dict(self) -> Dict[str, float]:
        return {
            "negative": self.negative,
            "positive": self.positive,
            "anger_annoyance": self.anger_annoyance,
            "anger": self.anger,
            "anger_upset": self.upset_anger,
        }

    @property
    def upset_anger(self) -> float:
        return self.anger if self.anger_upset is None else self.anger_upset


@dataclass
class _Block:
    """One TF-IDF block: vocabulary, idf and per-head weights."""

    vocabulary: Dict[str, int]
    idf: np.ndarray  # (n_features,)
    weights: np.ndarray  # (n_features, n_heads)

    def transform(self, grams: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Indices and L2-normalised sublinear TF-IDF values of ``grams``."""
        counts = tx.count_grams(grams)
        vocabulary = self.vocabulary
        indices: List[int] = []
        tfs: List[float] = []
        for gram, count in counts.items():
            index = vocabulary.get(gram)
            if index is not None:
                indices.append(index)
                tfs.append(1.0 + math.log(count) if count > 1 else 1.0)
        if not indices:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        idx = np.fromiter(indices, dtype=np.int64, count=len(indices))
        values = np.fromiter(tfs, dtype=np.float64, count=len(tfs)) * self.idf[idx]
        norm = math.sqrt(float(values @ values))
        if norm > 0:
            values /= norm
        return idx, values

    def logits(self, grams: Sequence[str]) -> np.ndarray:
        idx, values = self.transform(grams)
        if idx.size == 0:
            return np.zeros(self.weights.shape[1])
        return values @ self.weights[idx]


@dataclass
class SentimentModel:
    word: _Block
    char: _Block
    dense_weights: np.ndarray  # (n_dense, n_heads)
    intercepts: np.ndarray  # (n_heads,)
    lexicon: Dict[str, float]
    thresholds: Thresholds = field(default_factory=Thresholds)
    word_ngram_range: Tuple[int, int] = (1, 2)
    char_ngram_range: Tuple[int, int] = (2, 5)
    tone_implies_negative: bool = True
    info: Dict[str, object] = field(default_factory=dict)
    # weights of the sentence encoder's vector (dimension, n_heads); None: trained without it
    vector_weights: Optional[np.ndarray] = None
    # computes the vector when the caller has none (scripts, tests); not persisted - in the Rasa
    # pipeline the vector comes from SentenceEncoderFeaturizer's feature on the message
    encoder: Optional[Any] = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ predict
    def head_logits(self, raw: str, vector: Optional[np.ndarray] = None) -> np.ndarray:
        """Raw logit of every head (order of :data:`HEADS`).

        ``vector`` is the text's sentence vector; without one (and without ``encoder``) a model
        trained with vectors scores the text on its other features only (see ``needs_vector``).
        """
        norm = tx.normalise(raw)
        logits = self.intercepts.astype(np.float64).copy()
        logits += self.word.logits(tx.word_ngrams(norm, self.word_ngram_range))
        logits += self.char.logits(tx.char_ngrams(norm, self.char_ngram_range))
        dense = np.asarray(tx.dense_features(raw, norm, self.lexicon))
        logits += dense @ self.dense_weights
        if self.vector_weights is not None:
            if vector is None and self.encoder is not None:
                vector = self.encoder.encode_one(raw)
            if vector is not None:
                logits += np.asarray(vector, dtype=np.float64).reshape(-1) @ self.vector_weights
        return logits

    @property
    def needs_vector(self) -> bool:
        return self.vector_weights is not None

    def with_own_encoder(self) -> "SentimentModel":
        """Lets a loaded model score bare texts (scripts): builds the encoder it was trained with."""
        if self.needs_vector and self.encoder is None:
            from bot.nlu.encoder.runtime import encoder_from_weights

            self.encoder = encoder_from_weights()
        return self

    def head_probabilities(self, raw: str, vector: Optional[np.ndarray] = None) -> np.ndarray:
        logits = np.clip(self.head_logits(raw, vector), -30.0, 30.0)
        return 1.0 / (1.0 + np.exp(-logits))

    def decide(self, probabilities: Sequence[float]) -> SentimentResult:
        """Turn head probabilities into label, score and tone."""
        p_neg, p_pos, p_aa, p_anger = (float(p) for p in probabilities)
        t = self.thresholds
        if p_anger >= t.anger:
            tone: Tone = "angry"
        elif p_aa >= t.anger_annoyance or p_anger >= t.upset_anger:
            tone = "frustrated"
        else:
            tone = "calm"

        neg_fires = p_neg >= t.negative or (self.tone_implies_negative and tone != "calm")
        pos_fires = p_pos >= t.positive and tone == "calm"
        if neg_fires and pos_fires:
            # mixed message: keep the side that clears its threshold by more
            if p_neg / t.negative >= p_pos / t.positive:
                pos_fires = False
            else:
                neg_fires = False
        label: Label = "negative" if neg_fires else "positive" if pos_fires else "neutral"

        # score: positive minus negative evidence, kept consistent in sign with
        # the label (an upset tone can make a message negative even when the
        # negative head alone is unsure, e.g. sarcasm "great, charged twice")
        # and with the tone: frustrated <= -0.5, angry <= -0.75, so the score
        # never says "less upset" than the tone does.
        upset = max(p_neg, p_aa)
        score = p_pos - upset
        if label == "negative":
            score = min(score, -0.5 * upset)
        elif label == "positive":
            score = max(score, 0.5 * p_pos)
        score = min(score, _TONE_SCORE_CEILING[tone])
        score = max(-1.0, min(1.0, score))
        return {"label": label, "score": round(score, 4), "tone": tone}

    def predict(self, raw: str, vector: Optional[np.ndarray] = None) -> SentimentResult:
        return self.decide(self.head_probabilities(raw or "", vector))

    def predict_many(self, texts: Iterable[str]) -> List[SentimentResult]:
        return [self.predict(text) for text in texts]

    def probabilities_many(self, texts: Iterable[str]) -> np.ndarray:
        return np.array([self.head_probabilities(t or "") for t in texts])

    # ------------------------------------------------------------- persistence
    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        word_terms = _terms_in_order(self.word.vocabulary)
        char_terms = _terms_in_order(self.char.vocabulary)
        np.savez_compressed(
            directory / WEIGHTS_FILE,
            word_idf=self.word.idf.astype(np.float32),
            word_weights=self.word.weights.astype(np.float32),
            char_idf=self.char.idf.astype(np.float32),
            char_weights=self.char.weights.astype(np.float32),
            dense_weights=self.dense_weights.astype(np.float64),
            intercepts=self.intercepts.astype(np.float64),
            **({} if self.vector_weights is None
               else {"vector_weights": self.vector_weights.astype(np.float64)}),
        )
        meta = {
            "format_version": FORMAT_VERSION,
            "heads": list(HEADS),
            "dense_features": list(tx.DENSE_FEATURES),
            "word_ngram_range": list(self.word_ngram_range),
            "char_ngram_range": list(self.char_ngram_range),
            "thresholds": self.thresholds.as_dict(),
            "tone_implies_negative": self.tone_implies_negative,
            "word_terms": word_terms,
            "char_terms": char_terms,
            "lexicon": self.lexicon,
            "info": self.info,
        }
        with open(directory / META_FILE, "w", encoding="utf-8") as handle:
            json.dump(meta, handle, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def load(cls, directory: Path) -> "SentimentModel":
        directory = Path(directory)
        with open(directory / META_FILE, encoding="utf-8") as handle:
            meta = json.load(handle)
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"Unsupported sentiment model format {meta.get('format_version')!r}"
            )
        if tuple(meta["heads"]) != HEADS or tuple(meta["dense_features"]) != tuple(
            tx.DENSE_FEATURES
        ):
            raise ValueError("Sentiment model was trained with different heads/features")
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as arrays:
            word = _Block(
                vocabulary={t: i for i, t in enumerate(meta["word_terms"])},
                idf=arrays["word_idf"].astype(np.float64),
                weights=arrays["word_weights"].astype(np.float64),
            )
            char = _Block(
                vocabulary={t: i for i, t in enumerate(meta["char_terms"])},
                idf=arrays["char_idf"].astype(np.float64),
                weights=arrays["char_weights"].astype(np.float64),
            )
            dense_weights = arrays["dense_weights"]
            intercepts = arrays["intercepts"]
            vector_weights = arrays["vector_weights"] if "vector_weights" in arrays.files else None
        return cls(
            word=word,
            char=char,
            dense_weights=dense_weights,
            intercepts=intercepts,
            lexicon={k: float(v) for k, v in meta["lexicon"].items()},
            thresholds=Thresholds(**meta["thresholds"]),
            word_ngram_range=tuple(meta["word_ngram_range"]),  # type: ignore[arg-type]
            char_ngram_range=tuple(meta["char_ngram_range"]),  # type: ignore[arg-type]
            tone_implies_negative=bool(meta["tone_implies_negative"]),
            info=meta.get("info", {}),
            vector_weights=vector_weights,
        )


def _terms_in_order(vocabulary: Mapping[str, int]) -> List[str]:
    terms: List[Optional[str]] = [None] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    if any(t is None for t in terms):
        raise ValueError("vocabulary indices are not contiguous")
    return terms  # type: ignore[return-value]
