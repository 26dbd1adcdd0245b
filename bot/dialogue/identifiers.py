"""Pick the verification identifiers out of what a customer wrote.

Entities come from the NLU pipeline (bot.nlu.entities); this module only decides which of them
identify an account (account or invoice number) and which is the second factor (email or postal code).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional

IDENTIFIER_ENTITIES = ("account_number", "invoice_number")
FACTOR_ENTITIES = ("email", "postal_code")


@dataclass(frozen=True)
class Credentials:
    """What one message offered for verification (either part may be missing)."""

    identifier: Optional[str] = None
    factor: Optional[str] = None

    @property
    def empty(self) -> bool:
        return self.identifier is None and self.factor is None


def _first(entities: Iterable[Dict[str, Any]], names: Iterable[str]) -> Optional[str]:
    wanted = tuple(names)
    for name in wanted:  # priority order: account before invoice, email before postal code
        for entity in entities:
            if entity.get("entity") == name and entity.get("value"):
                return str(entity["value"])
    return None


def credentials_from_entities(entities: Iterable[Dict[str, Any]]) -> Credentials:
    """Return the account/invoice number and the email/postal code found in one message."""
    entities = list(entities)
    return Credentials(
        identifier=_first(entities, IDENTIFIER_ENTITIES),
        factor=_first(entities, FACTOR_ENTITIES),
    )
