"""Outcome figures from tracker events (pure functions; no database, no clock).

Per conversation (sender id): whether an offer was carried out and which kind (the ``pending_offer``
slot when ``action_execute_offer`` ran and moved on to the rating), whether it was handed to a person
(a ``pause`` event; the reason comes from the handoff records), how long until the resolution, the
sentiment score of the first and last customer message, and the CSAT rating.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional

NEGATIVE_BELOW = -0.25  # a customer message scoring below this reads as upset


@dataclass
class Conversation:
    sender_id: str
    first_user_at: Optional[float] = None
    resolution: Optional[str] = None
    resolved_at: Optional[float] = None
    escalated: bool = False
    sentiment: List[float] = field(default_factory=list)
    csat: Optional[float] = None

    @property
    def seconds_to_resolution(self) -> Optional[float]:
        if self.resolved_at is None or self.first_user_at is None:
            return None
        return max(0.0, self.resolved_at - self.first_user_at)


def conversations(events: Iterable[Mapping[str, Any]]) -> Dict[str, Conversation]:
    found: Dict[str, Conversation] = {}
    pending: Dict[str, Optional[str]] = {}
    executing: Dict[str, float] = {}
    for e in sorted(events, key=lambda e: float(e.get("timestamp") or 0.0)):
        sender = str(e.get("sender_id") or "")
        conv = found.setdefault(sender, Conversation(sender))
        kind, ts = e.get("event"), float(e.get("timestamp") or 0.0)
        if kind == "user":
            if conv.first_user_at is None:
                conv.first_user_at = ts
            score = ((e.get("parse_data") or {}).get("sentiment") or {}).get("score")
            if isinstance(score, (int, float)):
                conv.sentiment.append(float(score))
            executing.pop(sender, None)
        elif kind == "slot":
            name, value = e.get("name"), e.get("value")
            if name == "pending_offer":
                pending[sender] = value.get("kind") if isinstance(value, Mapping) else None
            elif name == "csat" and isinstance(value, (int, float)):
                conv.csat = float(value)
            elif name == "stage" and value == "rating" and sender in executing and conv.resolution is None:
                conv.resolution = pending.get(sender) or "other"
                conv.resolved_at = executing.pop(sender)
        elif kind == "action":
            if e.get("name") == "action_execute_offer" and pending.get(sender):
                executing[sender] = ts
            elif e.get("name") != "action_listen":
                executing.pop(sender, None)  # another action ran: that execution did not resolve
        elif kind == "pause":
            conv.escalated = True
    return {s: c for s, c in found.items() if c.first_user_at is not None}


def summary(events: Iterable[Mapping[str, Any]], handoff_reasons: Optional[Mapping[str, str]] = None
            ) -> Dict[str, Any]:
    """The report's figures. ``handoff_reasons``: conversation id -> escalation reason code."""
    convs = list(conversations(events).values())
    reasons = handoff_reasons or {}
    resolved = [c for c in convs if c.resolution]
    times = [c.seconds_to_resolution for c in resolved if c.seconds_to_resolution is not None]
    with_sentiment = [c for c in convs if c.sentiment]
    upset_at_start = [c for c in with_sentiment if c.sentiment[0] < NEGATIVE_BELOW]
    calmed = [c for c in upset_at_start if c.sentiment[-1] >= NEGATIVE_BELOW]
    ratings = [c.csat for c in convs if c.csat is not None]
    return {
        "conversations": len(convs),
        "resolved": len(resolved),
        "resolutions_by_kind": dict(Counter(c.resolution for c in resolved)),
        "escalated": sum(1 for c in convs if c.escalated),
        "escalations_by_reason": dict(Counter(reasons.get(c.sender_id, "unknown") for c in convs if c.escalated)),
        "median_seconds_to_resolution": round(statistics.median(times), 1) if times else None,
        "sentiment_start_mean": round(statistics.fmean(c.sentiment[0] for c in with_sentiment), 3)
        if with_sentiment else None,
        "sentiment_end_mean": round(statistics.fmean(c.sentiment[-1] for c in with_sentiment), 3)
        if with_sentiment else None,
        "upset_at_start": len(upset_at_start),
        "deescalation_rate": round(len(calmed) / len(upset_at_start), 3) if upset_at_start else None,
        "csat_count": len(ratings),
        "csat_mean": round(statistics.fmean(ratings), 2) if ratings else None,
        "csat_distribution": {str(k): v for k, v in sorted(Counter(int(r) for r in ratings).items())},
    }
