"""The sentiment timeline and context packet handed to the agent with an escalation.

Built on :func:`bot.nlu.sentiment.trajectory.sentiment_trajectory` (same smoothing, trend, streak);
indices here are customer-turn indices (0 = the customer's first message), and turns without a
sentiment are left out of the timeline.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

from bot.escalation.config import EscalationConfig, load_config
from bot.escalation.rule import Decision
from bot.escalation.state import ConversationState
from bot.nlu.sentiment.trajectory import sentiment_trajectory

__all__ = ["TimelineEntry", "sentiment_timeline", "context_packet", "redact"]

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d\s().-]{7,}\d(?![\w-])")
_POSTAL = re.compile(r"(?<![\w$.,-])\d{5}(?:-\d{4})?(?![\w-]|[.,]\d)")


def redact(text: str) -> str:
    """Mask email addresses, phone numbers and postal codes (verification factors) in ``text``."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group(0)) >= 10 else m.group(0), text)
    return _POSTAL.sub("[postal code]", text)


@dataclass(frozen=True)
class TimelineEntry:
    turn: int  # customer-turn index, 0-based
    text: str  # snippet (redacted unless timeline.redact is false)
    label: str
    score: float
    tone: str
    smoothed: float  # exponential moving average of the score up to this turn
    after_acknowledgement: bool  # the bot had acknowledged the customer's feelings before this turn


def _snippet(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


def sentiment_timeline(state: ConversationState, config: Optional[EscalationConfig] = None) -> List[TimelineEntry]:
    """One entry per customer turn that carried a sentiment, oldest first."""
    cfg = (config or load_config()).timeline
    indexed = [(i, t) for i, t in enumerate(state.turns) if t.sentiment is not None]
    trajectory = sentiment_trajectory(t.parse_data() for _, t in indexed)
    ack = state.first_acknowledgement_after
    entries = []
    for (turn, _), point, smoothed in zip(indexed, trajectory.points, trajectory.smoothed):
        text = redact(point.text) if cfg.redact else point.text
        entries.append(TimelineEntry(turn, _snippet(text, cfg.snippet_chars), point.label, point.score, point.tone,
                                     smoothed, ack is not None and turn > ack))
    return entries


def context_packet(state: ConversationState, decision: Decision,
                   config: Optional[EscalationConfig] = None) -> Dict[str, Any]:
    """A JSON-serialisable summary for the agent (``create_handoff(context=...)``)."""
    config = config or load_config()
    indexed = [t for t in state.turns if t.sentiment is not None]
    summary = sentiment_trajectory(t.parse_data() for t in indexed).as_dict()

    def money(value) -> Optional[str]:
        return None if value is None else f"{value:.2f}"

    return {
        "reason_code": decision.reason_code,
        "handoff_reason": decision.handoff_reason,
        "explanation": decision.explanation,
        "triggers": list(decision.fired),
        "sentiment": {
            "timeline": [asdict(e) for e in sentiment_timeline(state, config)],
            "trend": summary["trend"],
            "negative_streak": summary["negative_streak"],
            "peak_tone": summary["peak_tone"],
            "escalating": summary["escalating"],
        },
        "customer_turns": len(state.turns),
        "acknowledged_after_turn": state.first_acknowledgement_after,
        "verification_failures": state.verification_failures,
        "disputed_amount": money(state.disputed_amount),
        "requested_amount": money(state.requested_amount),
        "already_corrected": money(state.already_corrected),
        "plan_outside_policy": state.plan_outside_policy,
        "offers_made": list(state.offers_made),
        "offers_declined": list(state.offers_declined),
    }
