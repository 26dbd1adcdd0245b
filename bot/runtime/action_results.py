"""Validate action server responses with one JSON-schema validator built once.

Rasa 3.6 checks every response of the action server with ``jsonschema.validate(result, spec)``
(``RemoteAction._validate_action_result``). With jsonschema 4, ``validate`` first checks the schema
itself against the draft 2020-12 meta-schema on every call; in ``make bench`` that was 45% of the
Rasa server's CPU. Here the schema is checked once and the same validator is reused: the same
schema, the same accepted responses, the same ``ValidationError`` (jsonschema's ``best_match``) with
Rasa's message appended.

A valid response is checked faster still: each event is validated only against the branch of the
schema's ``oneOf`` that its ``event`` name selects (the branches are told apart by a ``const`` on
``event``, so no other branch can match). Anything that does not pass that way - a wrong shape, an
unknown event, an invalid event - goes through the full validator, so errors are exactly Rasa's.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_ORIGINAL = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


@lru_cache(maxsize=1)
def event_validators() -> Optional[Dict[Text, Any]]:
    """One validator per event name (item properties + that event's ``oneOf`` branch), or ``None``
    when the schema is not shaped as expected (then every response takes the full validator)."""
    spec = RemoteAction.action_response_format_spec()
    try:
        items = dict(spec["properties"]["events"]["items"])
        branches = items.pop("oneOf")
        names = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if "event" not in items.get("required", ()) or len(set(names)) != len(names):
        return None
    validators = {}
    for name, branch in zip(names, branches):
        schema = {**items, "allOf": [branch]}
        cls = validator_for(schema)
        validators[name] = cls(schema)
    return validators


def _quick_valid(result: Any) -> bool:
    """``True`` only if ``result`` certainly satisfies the response schema."""
    validators = event_validators()
    if validators is None or not isinstance(result, dict):
        return False
    events = result.get("events", [])
    responses = result.get("responses", [])
    if not isinstance(events, list) or not isinstance(responses, list):
        return False
    if not all(isinstance(response, dict) for response in responses):
        return False
    for event in events:
        if not isinstance(event, dict):
            return False
        validator = validators.get(event.get("event")) if isinstance(event.get("event"), str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    if _quick_valid(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    """Use the cached validator in this process (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]


def uninstall() -> None:
    RemoteAction._validate_action_result = _ORIGINAL  # type: ignore[assignment]


__all__ = ["ValidationError", "install", "response_validator", "uninstall", "validate_action_result"]
