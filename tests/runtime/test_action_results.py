"""Action server responses: the cached validator accepts and rejects exactly what jsonschema.validate does."""
from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.runtime import action_results

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "verified", "value": True}],
     "responses": [{"text": "Thanks.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"response": "utter_greet"}]},
]
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"name": "no event type"}], "responses": []},
    {"events": [{"event": "slot", "name": 5, "value": 1}], "responses": []},
]


def remote() -> RemoteAction:
    return RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1/webhook"))


def installed() -> bool:
    return RemoteAction._validate_action_result is action_results.validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_responses_pass(result: Dict[str, Any]) -> None:
    assert installed()  # importing bot.runtime installs it (endpoints.yml loads bot.runtime.store)
    jsonschema.validate(result, RemoteAction.action_response_format_spec())
    assert remote()._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_responses_fail_with_the_same_error_as_rasa(result: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as expected:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        remote()._validate_action_result(result)
    assert ours.value.message.startswith(expected.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(expected.value.path)


def test_the_schema_is_checked_once() -> None:
    assert action_results.response_validator() is action_results.response_validator()
