"""Agent hours and what to promise the customer at handoff (``agents:`` in ``escalation.yml``).

Pure: the clock (``now``), the number of agents online and the queue length are passed in.
``now`` should be timezone-aware; a naive datetime is taken as UTC (as the billing database
stores it).

    promise = handoff_promise(now, agents_online=2, queue_length=1, ticket=handoff.reference)
    dispatcher.utter_message(text=f"{decision.customer_message} {promise.text}")
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional, Union
from zoneinfo import ZoneInfo

from bot.escalation.config import WEEKDAYS, AgentHoursConfig, EscalationConfig, load_config

__all__ = ["HandoffPromise", "handoff_promise", "is_open", "is_business_day", "is_holiday", "closing_time",
           "next_opening", "hours_summary", "expected_wait_minutes", "new_ticket_reference"]

LIVE, CLOSED, NO_AGENTS, BUSY = "live", "closed", "no_agents", "busy"
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class HandoffPromise:
    """What to tell the customer. ``live``: an agent will join; otherwise a ticket + callback."""

    live: bool
    status: str  # live | closed (outside hours, weekend, holiday) | no_agents | busy (wait too long)
    text: str
    wait_minutes: Optional[int] = None
    ticket: Optional[str] = None
    callback_at: Optional[datetime] = None  # next opening (agents' time zone) for a callback


def _agents(config: Optional[Union[EscalationConfig, AgentHoursConfig]]) -> AgentHoursConfig:
    if isinstance(config, AgentHoursConfig):
        return config
    return (config or load_config()).agents


def _local(now: datetime, cfg: AgentHoursConfig) -> datetime:
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(ZoneInfo(cfg.timezone))


def is_holiday(day: date, config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> bool:
    cfg = _agents(config)
    return day.isoformat() in cfg.holidays or day.strftime("%m-%d") in cfg.holidays


def is_business_day(day: date, config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> bool:
    """A configured working weekday that is not a holiday."""
    cfg = _agents(config)
    return WEEKDAYS[day.weekday()] in cfg.days and not is_holiday(day, cfg)


def _at(day: date, moment: time, cfg: AgentHoursConfig) -> datetime:
    return datetime.combine(day, moment, tzinfo=ZoneInfo(cfg.timezone))


def is_open(now: datetime, config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> bool:
    """Are agents working at ``now``?"""
    cfg = _agents(config)
    local = _local(now, cfg)
    return is_business_day(local.date(), cfg) and cfg.open <= local.time() < cfg.close


def closing_time(now: datetime, config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> Optional[datetime]:
    """Today's closing time if agents are working at ``now``, else ``None``."""
    cfg = _agents(config)
    if not is_open(now, cfg):
        return None
    return _at(_local(now, cfg).date(), cfg.close, cfg)


def next_opening(now: datetime, config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None,
                 *, after_today: bool = False) -> datetime:
    """The next time agents start work strictly after ``now`` (or after today, with ``after_today``)."""
    cfg = _agents(config)
    local = _local(now, cfg)
    day = local.date()
    if after_today or local.time() >= cfg.open:
        day += timedelta(days=1)
    for _ in range(366 * 2):
        if is_business_day(day, cfg):
            return _at(day, cfg.open, cfg)
        day += timedelta(days=1)
    raise ValueError("agents never work: check agents.days and agents.holidays")


def _clock(moment: time) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def hours_summary(config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> str:
    """``Mon–Fri 8am–8pm ET``."""
    cfg = _agents(config)
    indices = sorted({WEEKDAYS.index(d) for d in cfg.days})
    runs, start = [], None
    for position, index in enumerate(indices):
        if start is None:
            start = index
        if position + 1 == len(indices) or indices[position + 1] != index + 1:
            runs.append(_DAY_LABELS[start] if start == index else
                        f"{_DAY_LABELS[start]}{'–' if index - start > 1 else ', '}{_DAY_LABELS[index]}")
            start = None
    label = f" {cfg.timezone_label}" if cfg.timezone_label else ""
    return f"{', '.join(runs)} {_clock(cfg.open)}–{_clock(cfg.close)}{label}"


def expected_wait_minutes(agents_online: int, queue_length: int,
                          config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None) -> Optional[int]:
    """``average_handle_minutes * (queue_length + 1) / agents_online``, rounded up; ``None`` if nobody is online."""
    cfg = _agents(config)
    if agents_online <= 0:
        return None
    raw = cfg.average_handle_minutes * (max(0, queue_length) + 1) / agents_online
    step = cfg.round_up_to_minutes
    return max(step, int(math.ceil(raw / step - 1e-9)) * step)


def new_ticket_reference(prefix: str = "HO") -> str:
    """A fresh ``HO-XXXXXXXX`` reference (prefer passing the billing handoff's own reference)."""
    from bot.billing.refs import new_reference

    return new_reference(prefix)


def _wait_text(minutes: int) -> str:
    return "a minute" if minutes <= 1 else f"{minutes} minutes"


def _callback_text(now: datetime, opening: datetime, cfg: AgentHoursConfig) -> str:
    local = _local(now, cfg)
    label = f" {cfg.timezone_label}" if cfg.timezone_label else ""
    if opening.date() == local.date():
        return f"today, from {_clock(opening.time())}{label}"
    when = "tomorrow" if opening.date() == local.date() + timedelta(days=1) else "on the next business day"
    return f"{when} ({opening:%A}, {opening:%B} {opening.day})"


def handoff_promise(
    now: datetime,
    agents_online: int,
    queue_length: int,
    *,
    ticket: Optional[str] = None,
    config: Optional[Union[EscalationConfig, AgentHoursConfig]] = None,
) -> HandoffPromise:
    """What to promise: a live wait inside hours with agents online, else a ticket and a callback.

    ``ticket``: the handoff's reference (``create_handoff(...).reference``); a fresh
    ``<ticket_prefix>-XXXXXXXX`` is drawn when omitted. A callback is promised when outside hours
    (weekend, holiday, before opening, after closing), when nobody is online, when the expected
    wait exceeds ``max_live_wait_minutes`` or would run past closing time.
    """
    cfg = _agents(config)
    hours = hours_summary(cfg)
    if is_open(now, cfg):
        wait = expected_wait_minutes(agents_online, queue_length, cfg)
        closing = closing_time(now, cfg)
        aware_now = now if now.tzinfo else now.replace(tzinfo=timezone.utc)
        if wait is not None and wait <= cfg.max_live_wait_minutes and aware_now + timedelta(minutes=wait) <= closing:
            return HandoffPromise(True, LIVE, cfg.messages.live.format(wait=_wait_text(wait), hours=hours),
                                  wait_minutes=wait)
        status = NO_AGENTS if wait is None else BUSY
        # Busy near closing, or nobody online: promise the next opening after today unless time remains.
        opening = next_opening(now, cfg, after_today=True)
        ticket = ticket or new_ticket_reference(cfg.ticket_prefix)
        text = cfg.messages.busy.format(ticket=ticket, callback=_callback_text(now, opening, cfg), hours=hours)
        return HandoffPromise(False, status, text, wait_minutes=wait, ticket=ticket, callback_at=opening)
    opening = next_opening(now, cfg)
    ticket = ticket or new_ticket_reference(cfg.ticket_prefix)
    text = cfg.messages.offline.format(ticket=ticket, callback=_callback_text(now, opening, cfg), hours=hours)
    return HandoffPromise(False, CLOSED, text, ticket=ticket, callback_at=opening)
