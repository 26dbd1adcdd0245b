"""Which waiting handoff an agent should take first.

Priority = reason weight + how upset the customer was + money at stake + minutes waiting. The weights
are here in one place; the queue is sorted highest first, oldest first on ties.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Iterable, List, Mapping

from bot.billing.dto import HandoffDTO

# Escalation reason codes (bot/escalation/escalation.yml): legal threats first.
REASON_WEIGHT: Mapping[str, float] = {
    "legal": 100.0,
    "authority": 60.0,
    "sentiment": 50.0,
    "verification": 40.0,
    "requested": 30.0,
    "no_resolution": 25.0,
    "misunderstanding": 20.0,
}
DEFAULT_REASON_WEIGHT = 20.0
ANGER_WEIGHT = 30.0  # times how negative the customer's latest sentiment was (0..1)
AMOUNT_WEIGHT_PER_100 = 2.0  # per $100 at stake...
AMOUNT_WEIGHT_CAP = 40.0  # ...up to this much
WAIT_WEIGHT_PER_MINUTE = 1.0


def _amount(packet: Mapping[str, Any]) -> Decimal:
    case = packet.get("case") or {}
    for raw in (packet.get("disputed_amount"), packet.get("requested_amount"), case.get("amount")):
        try:
            if raw is not None:
                return Decimal(str(raw))
        except (InvalidOperation, ValueError):
            continue
    return Decimal("0")


def _latest_score(packet: Mapping[str, Any]) -> float:
    timeline = ((packet.get("sentiment") or {}).get("timeline")) or []
    scores = [t.get("score") for t in timeline if isinstance(t, Mapping) and isinstance(t.get("score"), (int, float))]
    return float(scores[-1]) if scores else 0.0


def priority(handoff: HandoffDTO, now: datetime) -> float:
    packet = handoff.context or {}
    reason = packet.get("reason_code") or ""
    score = REASON_WEIGHT.get(reason, DEFAULT_REASON_WEIGHT)
    score += ANGER_WEIGHT * max(0.0, -_latest_score(packet))
    score += min(AMOUNT_WEIGHT_CAP, float(_amount(packet) / 100) * AMOUNT_WEIGHT_PER_100)
    score += max(0.0, (now - handoff.created_at).total_seconds() / 60.0) * WAIT_WEIGHT_PER_MINUTE
    return round(score, 2)


def ordered(handoffs: Iterable[HandoffDTO], now: datetime) -> List[Dict[str, Any]]:
    """Queue entries, highest priority first, each with its priority and minutes waiting."""
    entries = []
    for h in handoffs:
        packet = h.context or {}
        entries.append({
            "reference": h.reference,
            "conversation_id": h.conversation_id,
            "account_number": h.account_number,
            "customer_name": (packet.get("customer") or {}).get("name"),
            "reason_code": packet.get("reason_code"),
            "handoff_reason": h.reason_code,
            "summary": h.summary,
            "status": h.status,
            "assigned_agent": h.assigned_agent,
            "amount": f"{_amount(packet):.2f}",
            "latest_sentiment": _latest_score(packet),
            "waiting_minutes": int(max(0.0, (now - h.created_at).total_seconds()) // 60),
            "created_at": h.created_at.isoformat(),
            "priority": priority(h, now),
        })
    entries.sort(key=lambda e: (-e["priority"], e["created_at"]))
    return entries
