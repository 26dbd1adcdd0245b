"""Sentiment / tone analysis for the billing-dispute assistant.

``bot.nlu.sentiment.SentimentAnalyzer`` is the Rasa NLU graph component. It is
imported lazily so that light-weight users (the action server importing
:mod:`bot.nlu.sentiment.trajectory`) do not pull in Rasa or scikit-learn.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.nlu.sentiment.types import LABELS, SENTIMENT_KEY, TONES, SentimentResult

if TYPE_CHECKING:  # pragma: no cover
    from bot.nlu.sentiment.component import SentimentAnalyzer
    from bot.nlu.sentiment.model import SentimentModel

__all__ = [
    "LABELS",
    "SENTIMENT_KEY",
    "TONES",
    "SentimentAnalyzer",
    "SentimentModel",
    "SentimentResult",
]


def __getattr__(name: str) -> Any:
    if name == "SentimentAnalyzer":
        from bot.nlu.sentiment.component import SentimentAnalyzer

        return SentimentAnalyzer
    if name == "SentimentModel":
        from bot.nlu.sentiment.model import SentimentModel

        return SentimentModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
