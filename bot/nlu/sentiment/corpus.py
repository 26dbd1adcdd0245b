"""Loading the shipped sentiment training corpus (``data/sentiment/``).

Sources (see ``data/sentiment/README.md``):

* GoEmotions train split (Demszky et al., 2020; Apache-2.0): Reddit comments
  with 27 emotions + neutral. Mapped to the heads via GoEmotions' own sentiment
  grouping.
* VADER ground truth (Hutto & Gilbert, 2014; MIT): tweets and Amazon review
  snippets with mean human ratings on -4..+4.
* ``billing_messages.tsv``: hand-written billing-dispute messages of this
  project with a label and a tone.

Deterministic splits (by a CRC32 of the source id, so they are stable across
machines and Python versions):

* GoEmotions: 15 % ``calibration`` (threshold tuning), the rest ``train``.
* VADER: 20 % ``heldout`` (never trained on; used to report agreement with the
  human ratings), the rest ``train``.
* billing messages: all ``train``.
"""
from __future__ import annotations

import csv
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from bot.nlu.sentiment.types import HEADS, LABELS, TONES

GOEMOTIONS_NEGATIVE = frozenset(
    {
        "anger",
        "annoyance",
        "disappointment",
        "disapproval",
        "disgust",
        "embarrassment",
        "fear",
        "grief",
        "nervousness",
        "remorse",
        "sadness",
    }
)
GOEMOTIONS_POSITIVE = frozenset(
    {
        "admiration",
        "amusement",
        "approval",
        "caring",
        "desire",
        "excitement",
        "gratitude",
        "joy",
        "love",
        "optimism",
        "pride",
        "relief",
    }
)
GOEMOTIONS_ANGER_ANNOYANCE = frozenset({"anger", "annoyance"})
GOEMOTIONS_ANGER = frozenset({"anger"})

GOEMOTIONS_LABELS = (
    "admiration amusement anger annoyance approval caring confusion curiosity desire "
    "disappointment disapproval disgust embarrassment excitement fear gratitude grief "
    "joy love nervousness optimism pride realization relief remorse sadness surprise "
    "neutral"
).split()

GOEMOTIONS_FILE = "goemotions_train.tsv"
GOEMOTIONS_LABELS_FILE = "goemotions_labels.txt"
VADER_FILES = ("vader_tweets_groundtruth.tsv", "vader_amazon_groundtruth.tsv")
BILLING_FILE = "billing_messages.tsv"
LEXICON_FILE = "vader_lexicon.txt"
CORPUS_FILES: Tuple[str, ...] = (
    GOEMOTIONS_FILE,
    GOEMOTIONS_LABELS_FILE,
    *VADER_FILES,
    BILLING_FILE,
    LEXICON_FILE,
)

CALIBRATION_PERCENT = 15
VADER_HELDOUT_PERCENT = 20

Targets = Dict[str, Optional[int]]


def repo_root() -> Path:
    """Root of the project checkout (``bot/nlu/sentiment`` is three levels down)."""
    return Path(__file__).resolve().parents[3]


def default_corpus_dir() -> Path:
    return repo_root() / "data" / "sentiment"


def shared_data_dir() -> Path:
    """Public data folder: env ``SHARED_DATA_DIR`` or ``<repo>/../shared/data``."""
    env = os.environ.get("SHARED_DATA_DIR")
    if env:
        return Path(env)
    return repo_root().parent / "shared" / "data"


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % 100


@dataclass(frozen=True)
class Example:
    text: str
    source: str  # "goemotions" | "vader" | "billing"
    split: str  # "train" | "calibration" | "heldout"
    targets: Targets = field(default_factory=dict)  # head -> 0/1, None = unknown
    weight: float = 1.0
    rating: Optional[float] = None  # VADER mean rating (-4..4)
    emotions: Tuple[str, ...] = ()  # GoEmotions emotion names


def goemotions_targets(emotions: Sequence[str]) -> Targets:
    names = set(emotions)
    return {
        "negative": int(bool(names & GOEMOTIONS_NEGATIVE)),
        "positive": int(bool(names & GOEMOTIONS_POSITIVE)),
        "anger_annoyance": int(bool(names & GOEMOTIONS_ANGER_ANNOYANCE)),
        "anger": int(bool(names & GOEMOTIONS_ANGER)),
    }


def read_goemotions(
    path: Path, label_names: Sequence[str] = GOEMOTIONS_LABELS
) -> Iterator[Tuple[str, Tuple[str, ...], str]]:
    """Yield ``(text, emotion names, id)`` from a GoEmotions TSV file."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            text, ids, comment_id = parts[0], parts[1], parts[2]
            emotions = tuple(label_names[int(i)] for i in ids.split(",") if i)
            yield text, emotions, comment_id


def read_vader(path: Path) -> Iterator[Tuple[str, float, str, str]]:
    """Yield ``(text, mean rating, label3, id)`` from a VADER ground-truth TSV."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            yield (
                row["text"],
                float(row["mean_rating_-4_to_4"]),
                row["label3_thresh0.5"],
                row["id"],
            )


def read_billing(path: Path) -> Iterator[Tuple[str, str, str]]:
    """Yield ``(text, label, tone)``; lines starting with ``#`` are comments."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "text":
                continue
            if len(parts) != 3 or parts[1] not in LABELS or parts[2] not in TONES:
                raise ValueError(f"{path}:{number}: expected text<TAB>label<TAB>tone")
            yield parts[0], parts[1], parts[2]


def billing_targets(label: str, tone: str) -> Targets:
    return {
        "negative": int(label == "negative"),
        "positive": int(label == "positive"),
        "anger_annoyance": int(tone != "calm"),
        "anger": int(tone == "angry"),
    }


def vader_targets(label3: str) -> Targets:
    return {
        "negative": int(label3 == "negative"),
        "positive": int(label3 == "positive"),
        "anger_annoyance": None,
        "anger": None,
    }


def load_corpus(
    corpus_dir: Optional[Path] = None,
    billing_weight: float = 12.0,
    vader_weight: float = 1.0,
) -> List[Example]:
    """All examples of the shipped corpus with their split and targets."""
    corpus_dir = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    examples: List[Example] = []

    label_names = GOEMOTIONS_LABELS
    labels_path = corpus_dir / GOEMOTIONS_LABELS_FILE
    if labels_path.exists():
        label_names = labels_path.read_text(encoding="utf-8").split()
    for text, emotions, comment_id in read_goemotions(
        corpus_dir / GOEMOTIONS_FILE, label_names
    ):
        split = "calibration" if _bucket(comment_id) < CALIBRATION_PERCENT else "train"
        examples.append(
            Example(
                text=text,
                source="goemotions",
                split=split,
                targets=goemotions_targets(emotions),
                emotions=emotions,
            )
        )

    for file_name in VADER_FILES:
        for text, rating, label3, row_id in read_vader(corpus_dir / file_name):
            key = f"{file_name}:{row_id}"
            split = "heldout" if _bucket(key) < VADER_HELDOUT_PERCENT else "train"
            examples.append(
                Example(
                    text=text,
                    source="vader",
                    split=split,
                    targets=vader_targets(label3),
                    weight=vader_weight,
                    rating=rating,
                )
            )

    billing_path = corpus_dir / BILLING_FILE
    if billing_path.exists():
        for text, label, tone in read_billing(billing_path):
            examples.append(
                Example(
                    text=text,
                    source="billing",
                    split="train",
                    targets=billing_targets(label, tone),
                    weight=billing_weight,
                )
            )
    return examples


def load_lexicon_file(corpus_dir: Optional[Path] = None) -> Dict[str, float]:
    from bot.nlu.sentiment.text import load_lexicon

    corpus_dir = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    path = corpus_dir / LEXICON_FILE
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as handle:
        return load_lexicon(handle)


def corpus_fingerprint(corpus_dir: Optional[Path] = None) -> str:
    """Content hash of the corpus files (for Rasa's training cache)."""
    corpus_dir = Path(corpus_dir) if corpus_dir else default_corpus_dir()
    digest = 0
    for name in CORPUS_FILES:
        path = corpus_dir / name
        if path.exists():
            digest = zlib.crc32(name.encode("utf-8"), digest)
            digest = zlib.crc32(path.read_bytes(), digest)
    return f"{digest:08x}"


__all__ = [
    "Example",
    "HEADS",
    "load_corpus",
    "load_lexicon_file",
    "corpus_fingerprint",
    "shared_data_dir",
    "default_corpus_dir",
    "read_goemotions",
    "read_vader",
    "read_billing",
    "goemotions_targets",
]
