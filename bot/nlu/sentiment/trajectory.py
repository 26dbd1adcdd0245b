"""Sentiment timeline of a conversation, computed from user parse_data dicts.

Dependency-free (no Rasa import), so actions can use it directly::

    from bot.nlu.sentiment.trajectory import sentiment_trajectory
    parse_datas = [e["parse_data"] for e in tracker.events if e.get("event") == "user"]
    timeline = sentiment_trajectory(parse_datas)
    if timeline.escalating: ...
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional

from bot.nlu.sentiment.types import SENTIMENT_KEY

_TONE_RANK = {"calm": 0, "frustrated": 1, "angry": 2}


@dataclass(frozen=True)
class SentimentPoint:
    index: int  # position among the user turns that carried a sentiment
    text: str
    label: str
    score: float
    tone: str


@dataclass(frozen=True)
class SentimentTrajectory:
    points: List[SentimentPoint] = field(default_factory=list)
    smoothed: List[float] = field(default_factory=list)  # EMA of the score

    @property
    def latest(self) -> Optional[SentimentPoint]:
        return self.points[-1] if self.points else None

    @property
    def trend(self) -> float:
        """Change of the smoothed score over the last (up to) 3 turns; < 0 = worse."""
        if len(self.smoothed) < 2:
            return 0.0
        return round(self.smoothed[-1] - self.smoothed[max(0, len(self.smoothed) - 3)], 4)

    @property
    def negative_streak(self) -> int:
        """Number of consecutive most recent turns labelled negative."""
        streak = 0
        for point in reversed(self.points):
            if point.label != "negative":
                break
            streak += 1
        return streak

    @property
    def peak_tone(self) -> str:
        if not self.points:
            return "calm"
        return max((p.tone for p in self.points), key=lambda t: _TONE_RANK.get(t, 0))

    @property
    def escalating(self) -> bool:
        """Tone got worse on the latest turn, or 2+ upset turns in a row."""
        if not self.points:
            return False
        tones = [_TONE_RANK.get(p.tone, 0) for p in self.points]
        worse = len(tones) >= 2 and tones[-1] > tones[-2]
        upset_run = len(tones) >= 2 and tones[-1] >= 1 and tones[-2] >= 1
        return worse or upset_run

    def as_dict(self) -> dict:
        return {
            "scores": [p.score for p in self.points],
            "labels": [p.label for p in self.points],
            "tones": [p.tone for p in self.points],
            "smoothed": self.smoothed,
            "trend": self.trend,
            "negative_streak": self.negative_streak,
            "peak_tone": self.peak_tone,
            "escalating": self.escalating,
        }


def sentiment_trajectory(
    parse_datas: Iterable[Optional[Mapping[str, Any]]], alpha: float = 0.6
) -> SentimentTrajectory:
    """Build the timeline; turns without a ``sentiment`` key are skipped.

    ``alpha`` is the weight of the newest score in the exponential moving average.
    """
    points: List[SentimentPoint] = []
    smoothed: List[float] = []
    for parse_data in parse_datas:
        if not parse_data:
            continue
        sentiment = parse_data.get(SENTIMENT_KEY)
        if not isinstance(sentiment, Mapping):
            continue
        try:
            score = float(sentiment.get("score", 0.0))
        except (TypeError, ValueError):
            continue
        score = max(-1.0, min(1.0, score))
        points.append(
            SentimentPoint(
                index=len(points),
                text=str(parse_data.get("text") or ""),
                label=str(sentiment.get("label", "neutral")),
                score=score,
                tone=str(sentiment.get("tone", "calm")),
            )
        )
        previous = smoothed[-1] if smoothed else score
        smoothed.append(round(alpha * score + (1 - alpha) * previous, 4))
    return SentimentTrajectory(points=points, smoothed=smoothed)
