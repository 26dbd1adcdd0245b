"""Build a :class:`~bot.escalation.state.ConversationState` from Rasa tracker events (no Rasa import).

In a custom action (rasa_sdk)::

    from bot.escalation import evaluate, state_from_events
    decision = evaluate(state_from_events(tracker.events, tracker.current_slot_values()))

What is read:

* ``user`` events: ``text``, ``parse_data.intent.name`` / ``.confidence``, ``parse_data.sentiment``
  (``{label, score, tone}`` from bot.nlu.sentiment), ``timestamp``.
* ``bot`` events: ``text`` and ``metadata``. ``metadata.utter_action`` (set by Rasa for domain
  responses, also when a custom action sends ``dispatcher.utter_message(response="utter_...")``) is
  the response name. A bot message is an **acknowledgement** when ``metadata.acknowledgement`` is
  true (``dispatcher.utter_message(text=..., acknowledgement=True)``, or response-level
  ``metadata: {acknowledgement: true}`` in the domain), or its response is in
  ``acknowledgements.responses``, or in ``acknowledgements.responses_when_upset`` while the customer
  turn it answers is frustrated/angry. It is the **offer to keep helping** when
  ``metadata.escalation_offer`` is true or its response is in ``requested.offer_responses``.
* ``slot`` / ``reset_slots`` events, overridden by ``slots`` (``tracker.current_slot_values()``):
  the slot names under ``slots:`` in ``escalation.yml`` (verification_failures, disputed_amount,
  requested_amount, already_corrected, plan_outside_policy, offers_made, offers_declined,
  handoff_reference).
* Only the current session counts: events before the last ``session_started`` / ``restart`` are
  ignored; ``rewind`` (UserUtteranceReverted) removes the latest customer turn and what followed.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.escalation.config import EscalationConfig, load_config
from bot.escalation.rule import is_human_request
from bot.escalation.state import BotTurn, ConversationState, CustomerTurn, Sentiment, to_decimal
from bot.nlu.sentiment.types import SENTIMENT_KEY

__all__ = ["state_from_events", "customer_turn_from_event", "ESCALATION_OFFER_KEY"]

ESCALATION_OFFER_KEY = "escalation_offer"
_SESSION_BOUNDARIES = ("session_started", "restart")


def _flag(metadata: Mapping[str, Any], key: str) -> bool:
    if metadata.get(key) is True:
        return True
    nested = metadata.get("metadata")
    return isinstance(nested, Mapping) and nested.get(key) is True


def _float(value: Any) -> Optional[float]:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def customer_turn_from_event(event: Mapping[str, Any]) -> CustomerTurn:
    """A :class:`CustomerTurn` from one ``{"event": "user", ...}`` dict."""
    parse_data = event.get("parse_data") or {}
    intent = parse_data.get("intent") or {}
    text = event.get("text")
    if text is None:
        text = parse_data.get("text")
    return CustomerTurn(
        text=str(text or ""),
        intent=(str(intent.get("name")) if intent.get("name") else None) if isinstance(intent, Mapping) else None,
        confidence=_float(intent.get("confidence")) if isinstance(intent, Mapping) else None,
        sentiment=Sentiment.from_mapping(parse_data.get(SENTIMENT_KEY)),
        timestamp=_float(event.get("timestamp")),
    )


def _as_list(value: Any) -> List[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def _as_int(value: Any) -> int:
    number = _float(value)
    return int(number) if number is not None else 0


def _current_session(events: List[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    start = 0
    for index, event in enumerate(events):
        if event.get("event") in _SESSION_BOUNDARIES:
            start = index + 1
    return events[start:]


def state_from_events(
    events: Iterable[Mapping[str, Any]],
    slots: Optional[Mapping[str, Any]] = None,
    config: Optional[EscalationConfig] = None,
) -> ConversationState:
    """The conversation state of the current session (see the module docstring for what is read)."""
    config = config or load_config()
    ack_cfg, req_cfg = config.acknowledgements, config.requested
    turns: List[CustomerTurn] = []
    bots: List[BotTurn] = []
    slot_values: Dict[str, Any] = {}

    for event in _current_session([e for e in events if isinstance(e, Mapping)]):
        kind = event.get("event")
        if kind == "user":
            turns.append(customer_turn_from_event(event))
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            if not isinstance(metadata, Mapping):
                metadata = {}
            response = metadata.get("utter_action") or None
            after = len(turns) - 1
            upset = bool(turns) and turns[-1].sentiment is not None and turns[-1].sentiment.tone in ack_cfg.upset_tones
            acknowledgement = (
                _flag(metadata, ack_cfg.metadata_key)
                or response in ack_cfg.responses
                or (response in ack_cfg.responses_when_upset and upset)
            )
            offer = _flag(metadata, ESCALATION_OFFER_KEY) or response in req_cfg.offer_responses
            bots.append(BotTurn(after_turn=after, text=str(event.get("text") or ""), response=response,
                                acknowledgement=bool(acknowledgement), escalation_offer=bool(offer)))
        elif kind == "slot" and event.get("name"):
            slot_values[str(event["name"])] = event.get("value")
        elif kind == "reset_slots":
            slot_values.clear()
        elif kind == "rewind" and turns:
            removed = len(turns) - 1
            turns.pop()
            bots = [b for b in bots if b.after_turn < removed]

    if slots:
        slot_values.update(slots)
    names = config.slots
    last = len(turns) - 1
    return ConversationState(
        turns=tuple(turns),
        bot_turns=tuple(bots),
        verification_failures=_as_int(slot_values.get(names.verification_failures)),
        disputed_amount=to_decimal(slot_values.get(names.disputed_amount)),
        requested_amount=to_decimal(slot_values.get(names.requested_amount)),
        already_corrected=to_decimal(slot_values.get(names.already_corrected)) or to_decimal("0.00"),
        plan_outside_policy=_as_bool(slot_values.get(names.plan_outside_policy)),
        offers_made=tuple(_as_list(slot_values.get(names.offers_made))),
        offers_declined=tuple(_as_list(slot_values.get(names.offers_declined))),
        requested_human_count=sum(1 for t in turns if is_human_request(t, config)),
        offer_to_keep_helping_made=any(b.escalation_offer and b.after_turn < last for b in bots),
        offer_declined=None,
        already_escalated=bool(slot_values.get(names.handoff_reference)),
    )
