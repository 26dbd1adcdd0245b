"""Plain data types shared by the entity pipeline (no spaCy / Rasa imports)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Union

# Entity names emitted by the extractor (must match the domain's `entities:`).
INVOICE_NUMBER = "invoice_number"
ACCOUNT_NUMBER = "account_number"
AMOUNT = "amount"
DATE = "date"
EMAIL = "email"
POSTAL_CODE = "postal_code"
PHONE = "phone"

ENTITY_TYPES = (
    INVOICE_NUMBER,
    ACCOUNT_NUMBER,
    AMOUNT,
    DATE,
    EMAIL,
    POSTAL_CODE,
    PHONE,
)

# `amount` values are dicts, everything else is a string.
EntityValue = Union[str, Dict[str, str]]


@dataclass(frozen=True)
class Entity:
    """One extracted entity.

    * ``entity``: one of :data:`ENTITY_TYPES`.
    * ``value``: the normalised value (see ``bot/nlu/entities/README.md``).
    * ``start`` / ``end``: character offsets into the original text
      (``text[start:end] == entity.text``).
    * ``text``: the surface string that was matched.
    * ``confidence``: 1.0 for explicit forms, lower for heuristic ones
      (bare 5-digit ZIP answers, currency-less formatted amounts).
    """

    entity: str
    value: EntityValue
    start: int
    end: int
    text: str
    confidence: float = field(default=1.0, compare=False)

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)
