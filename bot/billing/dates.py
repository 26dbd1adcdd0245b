"""Date helpers: UTC "now", month arithmetic and human-readable dates."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timezone


def utcnow() -> datetime:
    """Naive UTC datetime (the database stores naive UTC)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today_utc() -> date:
    """Today's date in UTC."""
    return utcnow().date()


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later (or earlier), clamped to the end of shorter months."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def month_start(day: date) -> date:
    """First day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """Last day of ``day``'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def human_date(day: date) -> str:
    """``October 15, 2025``."""
    return f"{day:%B} {day.day}, {day.year}"


def years_between(start: date, end: date) -> int:
    """Whole years from ``start`` to ``end`` (tenure)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return max(years, 0)
