"""What the escalation rule looks at: plain, Rasa-free dataclasses built by the caller.

Build a :class:`ConversationState` by hand (tests, other channels) or from Rasa tracker events with
:func:`bot.escalation.events.state_from_events`. Lists passed in are stored as tuples.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Optional, Tuple

from bot.nlu.sentiment.types import SENTIMENT_KEY

__all__ = ["Sentiment", "CustomerTurn", "BotTurn", "ConversationState", "TurnContext", "to_decimal"]


@dataclass(frozen=True)
class Sentiment:
    """The sentiment component's result for one customer message (``parse_data["sentiment"]``)."""

    label: str = "neutral"  # negative | neutral | positive
    score: float = 0.0  # -1 (upset) .. 1
    tone: str = "calm"  # calm | frustrated | angry

    @classmethod
    def from_mapping(cls, raw: Any) -> Optional["Sentiment"]:
        """From ``{"label", "score", "tone"}``; ``None`` when missing or malformed."""
        if not isinstance(raw, Mapping):
            return None
        try:
            score = float(raw.get("score", 0.0))
        except (TypeError, ValueError):
            return None
        return cls(label=str(raw.get("label") or "neutral"), score=max(-1.0, min(1.0, score)),
                   tone=str(raw.get("tone") or "calm"))


@dataclass(frozen=True)
class CustomerTurn:
    """One customer message."""

    text: str = ""
    intent: Optional[str] = None
    confidence: Optional[float] = None  # None = unknown (never counts as low confidence)
    sentiment: Optional[Sentiment] = None  # None = no sentiment (counts as calm / neutral)
    timestamp: Optional[float] = None

    def parse_data(self) -> dict:
        """A minimal Rasa-style ``parse_data`` (for :mod:`bot.nlu.sentiment.trajectory`)."""
        data: dict = {"text": self.text, "intent": {"name": self.intent, "confidence": self.confidence}}
        if self.sentiment is not None:
            data[SENTIMENT_KEY] = {"label": self.sentiment.label, "score": self.sentiment.score,
                                   "tone": self.sentiment.tone}
        return data


@dataclass(frozen=True)
class BotTurn:
    """One bot message, placed after the customer turn it answered.

    ``after_turn`` is the index (in ``ConversationState.turns``) of the last customer turn before
    this message; -1 for messages before the customer's first one (the greeting).
    """

    after_turn: int
    text: str = ""
    response: Optional[str] = None  # the response name (utter_action), if any
    acknowledgement: bool = False  # an empathetic acknowledgement (de-escalation)
    escalation_offer: bool = False  # the "connect you now, or keep helping?" offer


def to_decimal(value: Any) -> Optional[Decimal]:
    """An amount from a slot value (Decimal, int, float, "$2,500.00"...); ``None`` if empty/invalid."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "").replace("$", "").replace("USD", "").strip()
        try:
            result = Decimal(cleaned)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    return None


def _tuple(values: Optional[Iterable[Any]]) -> Tuple[Any, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, bytes)):
        return (values,)
    return tuple(values)


@dataclass(frozen=True)
class ConversationState:
    """Everything the rule needs about the conversation so far (the latest turn last).

    Derived fields are ``None`` by default and then computed from ``turns``/``bot_turns`` by
    :func:`bot.escalation.rule.evaluate`; set them to override.
    """

    turns: Tuple[CustomerTurn, ...] = ()
    bot_turns: Tuple[BotTurn, ...] = ()
    verification_failures: int = 0
    disputed_amount: Optional[Decimal] = None  # the charge the customer disputes
    requested_amount: Optional[Decimal] = None  # the correction asked for / about to be made
    already_corrected: Decimal = Decimal("0.00")  # corrections already made for this dispute
    plan_outside_policy: bool = False  # the payment plan asked for is outside policy
    offers_made: Tuple[str, ...] = ()  # ids of the options offered
    offers_declined: Tuple[str, ...] = ()  # ids of the options the customer declined
    requested_human_count: Optional[int] = None  # None: counted from turns
    offer_to_keep_helping_made: Optional[bool] = None  # None: from bot_turns (before the latest turn)
    offer_declined: Optional[bool] = None  # None: the latest turn answers the offer with a decline
    already_escalated: bool = False  # handed off already: evaluate() does not escalate again

    def __post_init__(self) -> None:
        object.__setattr__(self, "turns", _tuple(self.turns))
        object.__setattr__(self, "bot_turns", _tuple(self.bot_turns))
        object.__setattr__(self, "offers_made", tuple(str(o) for o in _tuple(self.offers_made)))
        object.__setattr__(self, "offers_declined", tuple(str(o) for o in _tuple(self.offers_declined)))
        for name in ("disputed_amount", "requested_amount"):
            raw = getattr(self, name)
            if raw is not None and not isinstance(raw, Decimal):
                object.__setattr__(self, name, to_decimal(raw))
        if not isinstance(self.already_corrected, Decimal):
            object.__setattr__(self, "already_corrected", to_decimal(self.already_corrected) or Decimal("0.00"))
        object.__setattr__(self, "verification_failures", int(self.verification_failures or 0))

    @property
    def latest(self) -> Optional[CustomerTurn]:
        return self.turns[-1] if self.turns else None

    @property
    def latest_index(self) -> int:
        return len(self.turns) - 1

    @property
    def first_acknowledgement_after(self) -> Optional[int]:
        """``after_turn`` of the first acknowledgement; customer turns with a larger index came after it."""
        marks = [b.after_turn for b in self.bot_turns if b.acknowledgement]
        return min(marks) if marks else None


TurnContext = ConversationState
"""Alias: the issue calls the rule's input a turn context."""
