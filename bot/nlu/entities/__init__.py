"""Billing entity extraction with the project's own rule-based spaCy pipeline.

Plain Python::

    from bot.nlu.entities import extract, parse_amount
    extract("I was charged $1,240.00 on invoice inv 142 last Tuesday")

Rasa (config.yml)::

    pipeline:
      - name: bot.nlu.entities.BillingEntityExtractor

``BillingEntityExtractor`` is imported lazily so that the plain API does not
import Rasa.
"""
from __future__ import annotations

from typing import Any

from .normalize import amount_currency, parse_amount
from .pipeline import build_nlp, extract, get_nlp, parse
from .types import ENTITY_TYPES, Entity

__all__ = [
    "BillingEntityExtractor",
    "ENTITY_TYPES",
    "Entity",
    "amount_currency",
    "build_nlp",
    "extract",
    "get_nlp",
    "parse",
    "parse_amount",
]


def __getattr__(name: str) -> Any:
    if name == "BillingEntityExtractor":
        from .component import BillingEntityExtractor

        return BillingEntityExtractor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
