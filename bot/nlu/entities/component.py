"""Rasa 3.6 graph component wrapping the billing spaCy pipeline.

config.yml::

    pipeline:
      - name: WhitespaceTokenizer        # any tokenizer works
      # ... featurizers / intent classifier / other extractors ...
      - name: bot.nlu.entities.BillingEntityExtractor
        # optional (defaults shown):
        # dimensions: null            # e.g. [invoice_number, amount]; null = all
        # default_currency: USD       # currency for "$" / "dollars" / bare "1,240.00"
        # timezone: null              # IANA name used for "today"; null = server local
        # reference_date: null        # fixed "today" (ISO), for tests / replays
        # on_overlap: replace         # or keep_existing (see below)

The extractor ignores Rasa's tokens: it runs its own spaCy pipeline on the raw
message text and appends entities with character ``start``/``end``,
normalised ``value``, ``entity``, ``extractor`` and ``confidence``.

Entities of the same type already found by extractors that run *before* this
one (list it after them) and that overlap one of ours are not duplicated:
``on_overlap: replace`` (default) drops theirs in favour of ours, whose value
is normalised; ``keep_existing`` keeps theirs and drops ours.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from .pipeline import extract, get_nlp
from .types import ENTITY_TYPES, Entity

ON_OVERLAP_CHOICES = ("replace", "keep_existing")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class BillingEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Rule-based billing entity extractor (invoice/account numbers, amounts,
    dates, e-mails, postal codes, phones) with normalised values."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "dimensions": None,
            "default_currency": "USD",
            "timezone": None,
            "reference_date": None,
            "on_overlap": "replace",
        }

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["en"]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy", "dateutil"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        dims = self._config["dimensions"]
        unknown = set(dims or []) - set(ENTITY_TYPES)
        if unknown:
            raise InvalidConfigException(
                f"{self.name}: unknown dimensions {sorted(unknown)}; "
                f"choose from {list(ENTITY_TYPES)}."
            )
        self._dimensions = set(dims) if dims else None
        if self._config["on_overlap"] not in ON_OVERLAP_CHOICES:
            raise InvalidConfigException(
                f"{self.name}: on_overlap must be one of {ON_OVERLAP_CHOICES}."
            )
        self._tz = None
        if self._config["timezone"]:
            from zoneinfo import ZoneInfo

            try:
                self._tz = ZoneInfo(self._config["timezone"])
            except Exception as e:  # ZoneInfoNotFoundError, ValueError
                raise InvalidConfigException(
                    f"{self.name}: unknown timezone {self._config['timezone']!r}"
                ) from e
        ref = self._config["reference_date"]
        self._reference_date = date.fromisoformat(str(ref)) if ref else None
        # build (and cache) the spaCy pipeline now, not on the first message
        self._nlp = get_nlp(self._config["default_currency"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BillingEntityExtractor:
        return cls(config)

    # ------------------------------------------------------------------
    def today(self) -> date:
        if self._reference_date is not None:
            return self._reference_date
        return datetime.now(self._tz).date()

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the billing entities to each message's ``entities``."""
        today = self.today()
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            found = extract(text, today=today, nlp=self._nlp)
            if self._dimensions is not None:
                found = [e for e in found if e.entity in self._dimensions]
            merged = self._merge(message.get(ENTITIES, []) or [], found)
            message.set(ENTITIES, merged, add_to_output=True)
        return messages

    def _to_rasa(self, entity: Entity) -> Dict[Text, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: entity.entity,
            ENTITY_ATTRIBUTE_START: entity.start,
            ENTITY_ATTRIBUTE_END: entity.end,
            ENTITY_ATTRIBUTE_VALUE: entity.value,
            ENTITY_ATTRIBUTE_CONFIDENCE: entity.confidence,
            EXTRACTOR: self.name,
        }

    def _merge(
        self, existing: List[Dict[Text, Any]], found: List[Entity]
    ) -> List[Dict[Text, Any]]:
        """Append ours, without duplicating same-type overlapping entities."""
        keep_existing = self._config["on_overlap"] == "keep_existing"
        result = list(existing)
        for ent in found:
            clashes = [
                other
                for other in result
                if other.get(ENTITY_ATTRIBUTE_TYPE) == ent.entity
                and other.get(EXTRACTOR) != self.name
                and _overlaps(other, ent)
            ]
            if clashes and keep_existing:
                continue
            if clashes:
                result = [other for other in result if not any(other is c for c in clashes)]
            result.append(self._to_rasa(ent))
        return result


def _overlaps(other: Dict[Text, Any], ent: Entity) -> bool:
    start, end = other.get(ENTITY_ATTRIBUTE_START), other.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    return start < ent.end and ent.start < end
