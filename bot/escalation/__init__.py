"""Escalation rule of the billing-dispute assistant: when to hand a conversation to a human agent.

Rasa-free and pure (no database, no clock of its own). Configuration: ``escalation.yml`` next to
this file (override with ``ESCALATION_CONFIG_FILE``). Typical use in a custom action::

    from bot.escalation import evaluate, state_from_events, handoff_promise, context_packet

    state = state_from_events(tracker.events, tracker.current_slot_values())
    decision = evaluate(state)
    if decision.escalate:
        handoff = create_handoff(conversation_id=tracker.sender_id, reason_code=decision.handoff_reason,
                                 context=context_packet(state, decision), summary=decision.explanation)
        promise = handoff_promise(now, agents_online, queue_length, ticket=handoff.reference)
        dispatcher.utter_message(text=f"{decision.customer_message} {promise.text}")
    elif decision.offer_first:
        dispatcher.utter_message(text=decision.customer_message, escalation_offer=True)

Modules: :mod:`.config` (YAML), :mod:`.state` (input dataclasses), :mod:`.events` (from tracker
events), :mod:`.rule` (``evaluate``), :mod:`.timeline` (sentiment timeline, context packet),
:mod:`.lockout` (verification lockout), :mod:`.hours` (agent hours, handoff promise),
:mod:`.phrases` (whole-word matching).
"""
from __future__ import annotations

from bot.escalation.config import REASON_CODES, EscalationConfig, load_config, parse_config
from bot.escalation.events import ESCALATION_OFFER_KEY, state_from_events
from bot.escalation.hours import (
    HandoffPromise,
    expected_wait_minutes,
    handoff_promise,
    hours_summary,
    is_business_day,
    is_open,
    next_opening,
)
from bot.escalation.lockout import (
    LockoutStatus,
    compact_failures,
    is_locked_out,
    locked_until,
    lockout_remaining,
    lockout_status,
    record_failure,
)
from bot.escalation.rule import Decision, Trigger, evaluate, is_human_request, is_misunderstood, legal_term, triggers
from bot.escalation.state import BotTurn, ConversationState, CustomerTurn, Sentiment, TurnContext
from bot.escalation.timeline import TimelineEntry, context_packet, sentiment_timeline

__all__ = [
    "REASON_CODES", "EscalationConfig", "load_config", "parse_config",
    "ESCALATION_OFFER_KEY", "state_from_events",
    "HandoffPromise", "expected_wait_minutes", "handoff_promise", "hours_summary", "is_business_day", "is_open",
    "next_opening",
    "LockoutStatus", "compact_failures", "is_locked_out", "locked_until", "lockout_remaining", "lockout_status",
    "record_failure",
    "Decision", "Trigger", "evaluate", "is_human_request", "is_misunderstood", "legal_term", "triggers",
    "BotTurn", "ConversationState", "CustomerTurn", "Sentiment", "TurnContext",
    "TimelineEntry", "context_packet", "sentiment_timeline",
]
