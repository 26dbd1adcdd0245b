"""The slots a customer message's sentiment fills: ``tone`` and ``sentiment_score``.

One definition for both places that fill them: ``action_read_sentiment`` (the custom slot mapping
in bot/domain/sentiment.yml, runnable on the action server) and the Rasa server itself, which runs
it in-process every turn (bot.runtime.local_actions) instead of calling the action server.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from bot.nlu.sentiment.types import SENTIMENT_KEY, TONES

ACTION_NAME = "action_read_sentiment"
TONE_SLOT = "tone"
SCORE_SLOT = "sentiment_score"


def sentiment_slots(parse_data: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``{"tone": ..., "sentiment_score": ...}`` from a parsed message, or ``{}`` if it has no usable sentiment."""
    sentiment = (parse_data or {}).get(SENTIMENT_KEY) or {}
    tone = sentiment.get("tone")
    score = sentiment.get("score")
    if tone not in TONES or isinstance(score, bool) or not isinstance(score, (int, float)):
        return {}
    return {TONE_SLOT: tone, SCORE_SLOT: max(-1.0, min(1.0, float(score)))}
