"""Agent hours and the handoff promise, with a fixed clock (agents in America/New_York)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.escalation import (
    expected_wait_minutes, handoff_promise, hours_summary, is_business_day, is_open, load_config, next_opening,
    parse_config,
)

CONFIG = load_config()
ET = ZoneInfo("America/New_York")


def et(*args) -> datetime:
    return datetime(*args, tzinfo=ET)


MONDAY_10AM = et(2026, 11, 23, 10, 0)


def test_inside_hours_with_agents_promises_a_short_wait():
    promise = handoff_promise(MONDAY_10AM, agents_online=2, queue_length=0, config=CONFIG)
    assert promise.live and promise.status == "live" and promise.wait_minutes == 5
    assert promise.text == "A specialist will be with you in about 5 minutes."
    assert promise.ticket is None and promise.callback_at is None


def test_wait_grows_with_the_queue():
    assert expected_wait_minutes(2, 3, CONFIG) == 15  # 6 min * 4 / 2 agents = 12 -> 15
    assert expected_wait_minutes(1, 0, CONFIG) == 10  # 6 -> 10
    assert expected_wait_minutes(0, 0, CONFIG) is None
    promise = handoff_promise(MONDAY_10AM, 2, 3, config=CONFIG)
    assert promise.live and "about 15 minutes" in promise.text


def test_utc_clock_is_converted():
    # 15:00 UTC == 10:00 EST; a naive datetime is UTC
    assert handoff_promise(datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc), 1, 0, config=CONFIG).live
    assert handoff_promise(datetime(2026, 11, 23, 15, 0), 1, 0, config=CONFIG).live
    assert not handoff_promise(datetime(2026, 11, 23, 12, 30), 1, 0, ticket="HO-X", config=CONFIG).live  # 7:30 EST


def test_daylight_saving_time():
    assert is_open(datetime(2027, 7, 6, 12, 30, tzinfo=timezone.utc), CONFIG)  # 8:30 EDT
    assert not is_open(datetime(2027, 1, 5, 12, 30, tzinfo=timezone.utc), CONFIG)  # 7:30 EST


def test_outside_hours_in_the_evening_promises_a_callback_tomorrow():
    promise = handoff_promise(et(2026, 11, 23, 21, 15), 3, 0, ticket="HO-7KQ2M9XD", config=CONFIG)
    assert not promise.live and promise.status == "closed"
    assert promise.text == ("Our specialists are offline right now (Mon–Fri 8am–8pm ET). I've opened ticket "
                            "HO-7KQ2M9XD and someone will call you back tomorrow (Tuesday, November 24).")
    assert promise.callback_at == et(2026, 11, 24, 8, 0)


def test_early_morning_promises_a_callback_today():
    promise = handoff_promise(et(2026, 11, 23, 6, 30), 0, 0, ticket="HO-1", config=CONFIG)
    assert promise.status == "closed" and "call you back today, from 8am ET." in promise.text


def test_weekend_promises_the_next_business_day():
    promise = handoff_promise(et(2026, 11, 28, 12, 0), 5, 0, ticket="HO-2", config=CONFIG)  # Saturday
    assert promise.status == "closed"
    assert promise.text.endswith("call you back on the next business day (Monday, November 30).")


def test_holiday_is_closed_and_skipped():
    thanksgiving = et(2026, 11, 26, 11, 0)
    assert not is_business_day(thanksgiving.date(), CONFIG) and not is_open(thanksgiving, CONFIG)
    promise = handoff_promise(thanksgiving, 4, 0, ticket="HO-3", config=CONFIG)
    assert promise.status == "closed" and "tomorrow (Friday, November 27)" in promise.text
    # Christmas (a recurring "12-25") on a Friday: callback on Monday
    christmas = handoff_promise(et(2026, 12, 24, 20, 30), 4, 0, ticket="HO-4", config=CONFIG)
    assert christmas.callback_at == et(2026, 12, 28, 8, 0)
    assert "on the next business day (Monday, December 28)" in christmas.text
    assert not is_business_day(date(2031, 12, 25), CONFIG)


def test_no_agents_online_inside_hours():
    promise = handoff_promise(MONDAY_10AM, agents_online=0, queue_length=0, ticket="HND-ABCDEFGH", config=CONFIG)
    assert not promise.live and promise.status == "no_agents" and promise.ticket == "HND-ABCDEFGH"
    assert promise.text.startswith("Our specialists are all busy right now (Mon–Fri 8am–8pm ET). I've opened ticket "
                                   "HND-ABCDEFGH")
    assert "tomorrow (Tuesday, November 24)" in promise.text


def test_wait_too_long_or_past_closing_gives_a_callback():
    busy = handoff_promise(MONDAY_10AM, agents_online=1, queue_length=40, ticket="HO-5", config=CONFIG)
    assert busy.status == "busy" and busy.wait_minutes == 250 and busy.ticket == "HO-5"
    closing = handoff_promise(et(2026, 11, 23, 19, 58), agents_online=3, queue_length=0, ticket="HO-6", config=CONFIG)
    assert closing.status == "busy" and not closing.live
    assert handoff_promise(et(2026, 11, 23, 19, 50), 3, 0, config=CONFIG).live  # 5 minutes still fit


def test_ticket_is_drawn_when_not_given():
    promise = handoff_promise(et(2026, 11, 29, 9, 0), 1, 0, config=CONFIG)
    assert re.fullmatch(r"HO-[A-Z0-9]{8}", promise.ticket) and promise.ticket in promise.text


def test_next_opening():
    assert next_opening(et(2026, 11, 23, 10, 0), CONFIG) == et(2026, 11, 24, 8, 0)
    assert next_opening(et(2026, 11, 23, 7, 0), CONFIG) == et(2026, 11, 23, 8, 0)
    assert next_opening(et(2026, 11, 27, 20, 0), CONFIG) == et(2026, 11, 30, 8, 0)


@pytest.mark.parametrize("agents, summary", [
    ({}, "Mon–Fri 8am–8pm ET"),
    ({"days": ["mon", "tue", "wed", "fri", "sat"], "open": "08:30", "close": "12:00"}, "Mon–Wed, Fri, Sat 8:30am–12pm ET"),
    ({"days": ["sun"], "timezone_label": "", "open": "00:00", "close": "23:59"}, "Sun 12am–11:59pm"),
])
def test_hours_summary(agents, summary):
    assert hours_summary(parse_config({"agents": agents})) == summary


def test_custom_hours_and_messages():
    cfg = parse_config({"agents": {"timezone": "Europe/London", "timezone_label": "UK time", "days": ["sat"],
                                   "open": "09:00", "close": "17:00", "holidays": [],
                                   "messages": {"live": "Hang on, {wait}."}}})
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    assert handoff_promise(saturday, 1, 0, config=cfg).text == "Hang on, 10 minutes."
    assert "Sat 9am–5pm UK time" in handoff_promise(MONDAY_10AM, 1, 0, ticket="T", config=cfg).text
