"""Constants and helpers shared by the billing tests."""
from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import func, select

from bot.billing.dates import today_utc
from bot.billing.db import session_scope

GENERATED_CUSTOMERS = 1000  # read-only database for findings precision/recall and lookups
TEMPLATE_CUSTOMERS = 20  # small database cloned for every test that changes money
SEED_DAY: date = today_utc()
REFERENCE_PATTERN = r"REF-[A-Z0-9]{6,}"


def count(url: str, model: Any, *where: Any) -> int:
    """Rows of ``model`` matching ``where``."""
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def walk(value: Any) -> Iterable[Any]:
    """Every leaf value inside dataclasses, mappings and sequences."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from walk(v)
    else:
        yield value


def assert_no_floats(value: Any) -> int:
    """Fail if any leaf is a float; return how many Decimals were seen (so callers can check > 0)."""
    leaves = list(walk(value))
    floats = [v for v in leaves if isinstance(v, float)]
    assert not floats, f"floats found: {floats}"
    return sum(isinstance(v, Decimal) for v in leaves)
