"""Action server responses: the cached validator accepts and rejects exactly what jsonschema.validate does."""
from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    assert action_results._quick_valid(result)  # and without the full validator


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


MORE_INVALID = [
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": 7}], "responses": []},
    {"events": [{"event": "user", "parse_data": {"entities": [{"start": 0}]}}]},
    {"events": [{"event": "slot", "name": "x"}]},  # value missing
    {"events": [], "responses": ["not an object"]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": None},
    {"events": [["a list, not an event"]]},
]


@pytest.mark.parametrize("result", MORE_INVALID)
def test_the_fast_path_never_accepts_what_jsonschema_rejects(result: Dict[str, Any]) -> None:
    assert not action_results._quick_valid(result)
    with pytest.raises(jsonschema.ValidationError):
        remote()._validate_action_result(result)


def test_every_event_of_the_schema_has_its_own_fast_validator() -> None:
    validators = action_results.event_validators()
    assert validators is not None and {"user", "bot", "slot", "action", "active_loop"} <= set(validators)


_events = st.fixed_dictionaries(
    {"event": st.sampled_from(["slot", "bot", "action", "active_loop", "user", "followup", "nope"])},
    optional={"name": st.one_of(st.none(), st.text(max_size=5), st.integers()),
              "value": st.one_of(st.none(), st.booleans(), st.text(max_size=5)),
              "text": st.one_of(st.none(), st.text(max_size=5), st.integers()),
              "timestamp": st.one_of(st.none(), st.floats(allow_nan=False), st.text(max_size=3)),
              "policy": st.one_of(st.none(), st.text(max_size=5)),
              "confidence": st.one_of(st.none(), st.floats(allow_nan=False), st.text(max_size=3))})
_responses = st.one_of(st.dictionaries(st.sampled_from(["text", "response"]), st.text(max_size=5)),
                       st.text(max_size=3))


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={"events": st.one_of(st.lists(_events, max_size=4), st.none()),
                                           "responses": st.lists(_responses, max_size=2)}))
def test_fast_and_full_validation_agree(result: Dict[str, Any]) -> None:
    spec = RemoteAction.action_response_format_spec()
    try:
        jsonschema.validate(result, spec)
        valid = True
    except jsonschema.ValidationError:
        valid = False
    if action_results._quick_valid(result):
        assert valid  # the fast path only ever says yes to valid responses
    assert (remote()._validate_action_result(result) is True) if valid else True
    if not valid:
        with pytest.raises(jsonschema.ValidationError):
            remote()._validate_action_result(result)
