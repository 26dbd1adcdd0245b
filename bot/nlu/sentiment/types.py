"""Shared types and constants of the sentiment component.

Kept free of heavy imports (no Rasa, no scikit-learn) so that the action server
and dialogue code can import it cheaply.
"""
from __future__ import annotations

from typing import Literal, Tuple, TypedDict

SENTIMENT_KEY = "sentiment"
"""Key under which the result is stored on a Rasa message / in parse_data."""

Label = Literal["negative", "neutral", "positive"]
Tone = Literal["calm", "frustrated", "angry"]

LABELS: Tuple[str, ...] = ("negative", "neutral", "positive")
TONES: Tuple[str, ...] = ("calm", "frustrated", "angry")

HEADS: Tuple[str, ...] = ("negative", "positive", "anger_annoyance", "anger")
"""Binary model heads, in the column order of the weight matrices.

* ``negative``: the text expresses negative sentiment (GoEmotions negative group,
  VADER rating <= -0.5, billing label ``negative``).
* ``positive``: the text expresses positive sentiment.
* ``anger_annoyance``: the writer is frustrated or angry (GoEmotions anger or
  annoyance, billing tone ``frustrated``/``angry``).
* ``anger``: the writer is angry rather than merely annoyed (GoEmotions anger,
  billing tone ``angry``).
"""


class SentimentResult(TypedDict):
    """What the component attaches to every parsed message."""

    label: Label
    score: float  # in [-1, 1]; negative = upset customer
    tone: Tone
