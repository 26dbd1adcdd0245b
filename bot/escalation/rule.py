"""The escalation rule: should this conversation go to a human agent now, and why?

``evaluate(state)`` runs every trigger on a :class:`~bot.escalation.state.ConversationState` and
returns one :class:`Decision`. Pure: no Rasa, no database (the authority trigger reads the billing
policy file through :mod:`bot.billing.policy`, cached).

Triggers (reason codes) and when they fire, evaluated on the latest customer turn:

* ``requested`` - the latest turn asks for a person (intent or phrase). With
  ``offer_to_keep_helping`` the first request gets one offer instead (``escalate=False``,
  ``offer_first=True``); a later request, or declining the offer, escalates. Never a loop.
* ``legal`` - the latest turn contains a legal/regulatory term.
* ``authority`` - disputed amount > limit, or requested + already corrected > limit, or a payment
  plan outside policy.
* ``verification`` - ``verification_failures >= max_failures``.
* ``sentiment`` - the latest N turns angry (after the first acknowledgement), or negative.
* ``misunderstanding`` - the latest N turns were fallbacks or below the confidence threshold.
* ``no_resolution`` - options were offered and every one was declined.

State-based triggers (authority, verification, no_resolution) keep firing while their condition
holds; set ``already_escalated`` (slot ``handoff_reference``) once the handoff is made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

from bot.escalation.config import (
    AUTHORITY,
    LEGAL,
    MISUNDERSTANDING,
    NO_RESOLUTION,
    REQUESTED,
    SENTIMENT,
    VERIFICATION,
    EscalationConfig,
    load_config,
)
from bot.escalation.phrases import matcher
from bot.escalation.state import ConversationState, CustomerTurn

__all__ = ["Decision", "Trigger", "evaluate", "triggers", "is_human_request", "legal_term", "is_misunderstood"]


@dataclass(frozen=True)
class Trigger:
    """One trigger that fired. ``escalate=False`` only for the one-time offer to keep helping."""

    reason_code: str
    explanation: str
    escalate: bool = True
    handoff_reason: Optional[str] = None  # overrides reasons.<code>.handoff_reason


@dataclass(frozen=True)
class Decision:
    """What to do this turn.

    * ``escalate``: hand off now (create the handoff with ``handoff_reason``, say
      ``customer_message`` + ``handoff_promise(...).text``).
    * ``offer_first``: do not hand off yet; say ``customer_message`` (the one offer to keep helping)
      and mark that bot message with metadata ``{"escalation_offer": true}``.
    * otherwise carry on (``reason_code`` is ``None``).
    """

    escalate: bool
    reason_code: Optional[str] = None
    explanation: str = ""  # for agents
    customer_message: Optional[str] = None
    offer_first: bool = False
    handoff_reason: Optional[str] = None  # bot.billing.kinds.HandoffReason value for create_handoff
    fired: Tuple[str, ...] = field(default=())  # every trigger that fired, in priority order

    def __bool__(self) -> bool:
        return self.escalate


# ----------------------------------------------------------------------------- turn checks

def is_human_request(turn: CustomerTurn, config: Optional[EscalationConfig] = None) -> bool:
    """Does this customer turn ask for a person (configured intent or phrase)?"""
    cfg = (config or load_config()).requested
    if turn.intent and turn.intent in cfg.intents:
        return True
    return matcher(cfg.phrases, cfg.ignore_phrases).find(turn.text) is not None


def legal_term(text: Optional[str], config: Optional[EscalationConfig] = None) -> Optional[str]:
    """The legal/regulatory term found in ``text`` (as configured), or ``None``."""
    cfg = (config or load_config()).legal
    return matcher(cfg.terms, cfg.ignore_phrases).find(text)


def is_misunderstood(turn: CustomerTurn, config: Optional[EscalationConfig] = None) -> bool:
    """A fallback intent, or an intent confidence below the configured threshold."""
    cfg = (config or load_config()).misunderstanding
    if turn.intent and turn.intent in cfg.fallback_intents:
        return True
    return turn.confidence is not None and turn.confidence < cfg.low_confidence_below


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _trailing(turns: Tuple[CustomerTurn, ...], predicate, start: int = 0) -> int:
    """How many of the latest turns (index >= start) satisfy ``predicate``, counting back."""
    count = 0
    for index in range(len(turns) - 1, start - 1, -1):
        if not predicate(turns[index]):
            break
        count += 1
    return count


# ----------------------------------------------------------------------------- triggers

def _requested(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    cfg = config.requested
    latest = state.latest
    if not cfg.enabled or latest is None:
        return None
    last = state.latest_index
    asks = is_human_request(latest, config)
    count = state.requested_human_count
    if count is None:
        count = sum(1 for t in state.turns if is_human_request(t, config))
    if asks:
        count = max(count, 1)
    offers = [b for b in state.bot_turns if b.escalation_offer and b.after_turn < last]
    offer_made = state.offer_to_keep_helping_made
    if offer_made is None:
        offer_made = bool(offers)
    declined = state.offer_declined
    if declined is None:
        answered_offer = any(b.after_turn == last - 1 for b in offers)
        declined = answered_offer and (
            (latest.intent is not None and latest.intent in cfg.offer_declined_intents) or asks)
    if offer_made and declined and not asks:
        return Trigger(REQUESTED, f'Customer asked for a person and declined the offer to keep helping '
                                  f'("{_snippet(latest.text)}").')
    if not asks:
        return None
    if cfg.offer_to_keep_helping and not offer_made and count <= 1:
        return Trigger(REQUESTED, f'Customer asked for a person ("{_snippet(latest.text)}"); offering once to '
                                  f'keep helping.', escalate=False)
    times = "again " if count > 1 or offer_made else ""
    return Trigger(REQUESTED, f'Customer asked for a person {times}("{_snippet(latest.text)}").')


def _legal(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    latest = state.latest
    if not config.legal.enabled or latest is None:
        return None
    term = legal_term(latest.text, config)
    if term is None:
        return None
    return Trigger(LEGAL, f'Legal/regulatory language ("{term}") in turn {state.latest_index + 1}: '
                          f'"{_snippet(latest.text)}".')


def _authority(state: ConversationState, config: EscalationConfig, policy=None) -> Optional[Trigger]:
    cfg = config.authority
    if not cfg.enabled:
        return None
    reasons: List[str] = []
    if state.disputed_amount is not None or state.requested_amount is not None:
        from bot.billing.policy import correction_limit, load_policy

        limit = correction_limit(cfg.actor, policy or load_policy(cfg.policy_file))
        if state.disputed_amount is not None and state.disputed_amount > limit:
            reasons.append(f"the disputed amount {_usd(state.disputed_amount)} is above the {cfg.actor}'s "
                           f"correction limit of {_usd(limit)}")
        if state.requested_amount is not None:
            total = state.requested_amount + state.already_corrected
            if total > limit:
                extra = f" (with {_usd(state.already_corrected)} already corrected)" if state.already_corrected else ""
                reasons.append(f"the requested correction {_usd(state.requested_amount)}{extra} is above the "
                               f"{cfg.actor}'s correction limit of {_usd(limit)}")
    if state.plan_outside_policy:
        reasons.append("the payment plan asked for is outside policy")
    if not reasons:
        return None
    text = "; ".join(reasons)
    only_plan = state.plan_outside_policy and len(reasons) == 1
    return Trigger(AUTHORITY, text[0].upper() + text[1:] + ".",
                   handoff_reason="policy_exception" if only_plan else None)


def _verification(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    cfg = config.verification
    if not cfg.enabled or state.verification_failures < cfg.max_failures:
        return None
    return Trigger(VERIFICATION, f"{state.verification_failures} failed verification attempts (limit "
                                 f"{cfg.max_failures}); the customer is not verified. Further attempts from "
                                 f"this sender are refused for {cfg.lockout_minutes} minutes.")


def _sentiment(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    cfg = config.sentiment
    if not state.turns:
        return None
    ack = state.first_acknowledgement_after
    after_ack = len(state.turns) if ack is None else ack + 1  # first index that counts

    angry = cfg.angry
    if angry.enabled:
        start = after_ack if angry.after_acknowledgement else 0
        streak = _trailing(state.turns, lambda t: t.sentiment is not None and t.sentiment.tone in angry.tones, start)
        if streak >= angry.consecutive:
            since = " after the bot's acknowledgement" if angry.after_acknowledgement else ""
            return Trigger(SENTIMENT, f"Customer still angry: {streak} consecutive angry turns{since} "
                                      f'(latest: "{_snippet(state.latest.text)}").')
    negative = cfg.negative
    if negative.enabled:
        start = after_ack if negative.after_acknowledgement else 0
        streak = _trailing(state.turns,
                           lambda t: t.sentiment is not None and t.sentiment.label in negative.labels, start)
        if streak >= negative.consecutive:
            since = " after the bot's acknowledgement" if negative.after_acknowledgement else ""
            return Trigger(SENTIMENT, f"Customer still upset: {streak} consecutive negative turns{since} "
                                      f'(latest: "{_snippet(state.latest.text)}").')
    return None


def _misunderstanding(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    cfg = config.misunderstanding
    if not cfg.enabled:
        return None
    streak = _trailing(state.turns, lambda t: is_misunderstood(t, config))
    if streak < cfg.consecutive:
        return None
    return Trigger(MISUNDERSTANDING, f"The bot did not understand {streak} consecutive turns "
                                     f'(latest: "{_snippet(state.latest.text)}").')


def _no_resolution(state: ConversationState, config: EscalationConfig) -> Optional[Trigger]:
    if not config.no_resolution.enabled or not state.offers_made:
        return None
    declined = set(state.offers_declined)
    if not all(offer in declined for offer in state.offers_made):
        return None
    return Trigger(NO_RESOLUTION, f"Customer declined every option offered ({', '.join(state.offers_made)}).")


# ----------------------------------------------------------------------------- evaluation

def triggers(state: ConversationState, config: Optional[EscalationConfig] = None, *, policy=None) -> List[Trigger]:
    """Every trigger that fires on ``state``, in the configured priority order."""
    config = config or load_config()
    found: Dict[str, Optional[Trigger]] = {
        LEGAL: _legal(state, config),
        REQUESTED: _requested(state, config),
        AUTHORITY: _authority(state, config, policy),
        VERIFICATION: _verification(state, config),
        SENTIMENT: _sentiment(state, config),
        MISUNDERSTANDING: _misunderstanding(state, config),
        NO_RESOLUTION: _no_resolution(state, config),
    }
    return [found[code] for code in config.priority if found.get(code) is not None]  # type: ignore[misc]


def evaluate(state: ConversationState, config: Optional[EscalationConfig] = None, *, policy=None) -> Decision:
    """The decision for the latest turn.

    The highest-priority escalating trigger wins; if none escalates but the customer asked for a
    person for the first time, the one offer to keep helping is returned (``offer_first``).
    ``policy`` (a :class:`bot.billing.policy.Policy`) overrides the configured policy file.
    """
    config = config or load_config()
    if state.already_escalated:
        return Decision(False, explanation="Already handed off; not escalating again.")
    fired = triggers(state, config, policy=policy)
    codes = tuple(t.reason_code for t in fired)
    chosen = next((t for t in fired if t.escalate), None)
    if chosen is not None:
        others = [t.explanation for t in fired if t is not chosen and t.escalate]
        explanation = chosen.explanation + ("" if not others else " Also: " + " ".join(others))
        reason = config.reason(chosen.reason_code)
        return Decision(True, chosen.reason_code, explanation, reason.customer_message or None, False,
                        chosen.handoff_reason or reason.handoff_reason, codes)
    offer = next((t for t in fired if not t.escalate), None)
    if offer is not None:
        return Decision(False, offer.reason_code, offer.explanation, config.requested.offer_message, True, None, codes)
    return Decision(False)
