"""Date resolution against a reference "today" (pure Python, no spaCy / Rasa).

Policy (billing disputes talk about *past* charges):

* Absolute dates with a year ("2026-10-03", "10/03/2026", "Oct 3, 2026")
  resolve to that date.
* Dates without a year ("Oct 3", "3 Oct", "October 3rd", "10/03") resolve to
  the most recent such date that is not in the future (today counts). With
  "next" ("next Oct 3") they resolve to the first such date after today.
* "the 3rd" (day of month only) resolves to the most recent 3rd that is not
  in the future: this month if today is the 3rd or later, otherwise last month
  (months without that day, e.g. the 31st, are skipped).
* "today" / "yesterday" / "tomorrow" / "N days|weeks ago" / "a week ago".
* Weekdays: "last Tuesday" = the most recent Tuesday strictly before today;
  "next Friday" = the first Friday strictly after today; "this Friday" = the
  Friday of the current Monday-Sunday week; a bare "Tuesday" / "on Tuesday" =
  the most recent Tuesday not in the future (today counts).
* Month periods resolve to ``"YYYY-MM"`` (not a day): "last month",
  "this month", "next month", "October 2026", "in October" / "October"
  (most recent October not in the future, the current month counts),
  "last October" (most recent October strictly before the current month).

US ordering is assumed for numeric dates: "10/03" is October 3rd; if the
first number cannot be a month ("25/10") it is read as day/month.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Optional, Tuple

from dateutil.relativedelta import relativedelta

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}


def month_number(word: str) -> Optional[int]:
    return MONTHS.get(word.lower().rstrip("."))


def weekday_number(word: str) -> Optional[int]:
    return WEEKDAYS.get(word.lower().rstrip("."))


def iso(d: date) -> str:
    return d.isoformat()


def iso_month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def expand_year(year: int) -> int:
    """Two-digit years are 2000-based ("26" -> 2026)."""
    return year + 2000 if year < 100 else year


def safe_date(year: int, month: int, day: int) -> Optional[date]:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def resolve_month_day(
    month: int, day: int, today: date, year: Optional[int] = None, future: bool = False
) -> Optional[date]:
    """A month/day, with or without a year, against ``today`` (see module doc)."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is not None:
        return safe_date(expand_year(year), month, day)
    step = 1 if future else -1
    # look at up to 8 years so that Feb 29 finds a leap year
    for offset in range(0, 9):
        candidate = safe_date(today.year + step * offset, month, day)
        if candidate is None:
            continue
        if future and candidate > today:
            return candidate
        if not future and candidate <= today:
            return candidate
    return None


def resolve_day_of_month(day: int, today: date, future: bool = False) -> Optional[date]:
    """"the 3rd": the most recent 3rd not after today (or next one if future)."""
    if not 1 <= day <= 31:
        return None
    step = 1 if future else -1
    first = today.replace(day=1)
    for offset in range(0, 13):
        month_start = first + relativedelta(months=step * offset)
        candidate = safe_date(month_start.year, month_start.month, day)
        if candidate is None:
            continue
        if future and candidate > today:
            return candidate
        if not future and candidate <= today:
            return candidate
    return None


def resolve_numeric(first: int, second: int, year: Optional[int], today: date) -> Optional[date]:
    """"10/03" (US month/day); day/month if the first number is > 12."""
    month, day = first, second
    if month > 12 and day <= 12:
        month, day = day, month
    return resolve_month_day(month, day, today, year=year)


def resolve_weekday(weekday: int, today: date, modifier: Optional[str]) -> date:
    """``modifier`` is one of None (bare), "last", "past", "this", "next"."""
    delta_back = (today.weekday() - weekday) % 7
    if modifier in ("last", "past", "previous"):
        return today - timedelta(days=delta_back or 7)
    if modifier in ("next", "coming"):
        return today + timedelta(days=((weekday - today.weekday()) % 7) or 7)
    if modifier == "this":
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=weekday)
    return today - timedelta(days=delta_back)


def resolve_relative_month(modifier: str, today: date) -> Tuple[int, int]:
    offset = {"last": -1, "previous": -1, "past": -1, "this": 0, "current": 0, "next": 1}[modifier]
    d = today.replace(day=1) + relativedelta(months=offset)
    return d.year, d.month


def resolve_named_month(month: int, today: date, modifier: Optional[str]) -> Tuple[int, int]:
    """"in October" / "last October" / "next October" -> (year, month)."""
    if modifier in ("next", "coming"):
        year = today.year if month > today.month else today.year + 1
    elif modifier in ("last", "previous", "past"):
        year = today.year if month < today.month else today.year - 1
    elif modifier == "this":
        year = today.year
    else:
        year = today.year if month <= today.month else today.year - 1
    return year, month


def resolve_ago(quantity: int, unit: str, today: date) -> Optional[date]:
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return today - timedelta(days=quantity)
    if unit == "week":
        return today - timedelta(weeks=quantity)
    if unit == "month":
        return today - relativedelta(months=quantity)
    if unit == "year":
        return today - relativedelta(years=quantity)
    return None

