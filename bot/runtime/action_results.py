"""Validate action server responses with one JSON-schema validator built once.

Rasa 3.6 checks every response of the action server with ``jsonschema.validate(result, spec)``
(``RemoteAction._validate_action_result``). With jsonschema 4, ``validate`` first checks the schema
itself against the draft 2020-12 meta-schema on every call; in ``make bench`` that was 45% of the
Rasa server's CPU. Here the schema is checked once and the same validator is reused: the same
schema, the same accepted responses, the same ``ValidationError`` (jsonschema's ``best_match``) with
Rasa's message appended.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

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


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
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
