"""The action server's request built from kept event dicts equals Rasa's own, also after events change."""
from __future__ import annotations

import copy
import json

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import bot.runtime  # noqa: F401  installs the Rasa-process extensions, this one included
from bot.runtime import action_payload
from tests.runtime.test_states_cache import DOMAIN, TRACKERS
from tests.runtime.test_tracker_copy import edge_trackers

SELECTIVE = RemoteAction("action_list_invoices", EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=True))
FULL = RemoteAction("action_list_invoices", EndpointConfig("http://127.0.0.1:1/webhook"))


def rasas(action: RemoteAction, tracker: DialogueStateTracker) -> dict:
    return action_payload._ORIGINAL(action, tracker, DOMAIN)


def test_installed_in_the_rasa_process() -> None:
    assert RemoteAction._action_call_format is action_payload.action_call_format


def test_the_request_equals_rasas_for_every_story_rule_and_edge_tracker_first_and_second_time() -> None:
    trackers = [*TRACKERS, *edge_trackers()]
    assert len(trackers) > 40
    for tracker in trackers:
        for action in (SELECTIVE, FULL):
            expected = rasas(action, tracker)
            assert action_payload.action_call_format(action, tracker, DOMAIN) == expected
            assert action_payload.action_call_format(action, tracker, DOMAIN) == expected  # from the kept dicts
    assert "domain" not in action_payload.action_call_format(SELECTIVE, TRACKERS[0], DOMAIN)
    assert "domain" in action_payload.action_call_format(FULL, TRACKERS[0], DOMAIN)


def conversation() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("s1", [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("you charged me twice", {"name": "charged_twice", "confidence": 0.61}),
    ], DOMAIN.slots)


def sent_json(action: RemoteAction, tracker: DialogueStateTracker) -> dict:
    """The request as the action server receives it: the body the HTTP session encodes, parsed."""
    return json.loads(action_payload.dumps(action_payload.action_call_format(action, tracker, DOMAIN)))


def test_the_encoded_request_is_rasas_request_for_every_tracker_first_and_second_time() -> None:
    for tracker in [*TRACKERS, *edge_trackers()]:
        for action in (SELECTIVE, FULL):
            expected = json.loads(json.dumps(rasas(action, tracker)))
            assert sent_json(action, tracker) == expected
            assert sent_json(action, tracker) == expected  # from the kept texts


def test_an_event_is_encoded_once_while_it_is_unchanged(monkeypatch) -> None:
    tracker = conversation()
    sent_json(SELECTIVE, tracker)
    encoded = []
    monkeypatch.setattr(action_payload, "encode", lambda value: encoded.append(value) or json.dumps(value))
    tracker.update(SlotSet("verified", True))
    assert sent_json(SELECTIVE, tracker)["tracker"]["events"][-1]["name"] == "verified"
    assert [value.get("event") for value in encoded] == [None, "slot"]  # the rest of the request, the new event


def test_a_restamped_event_is_sent_with_its_new_timestamp() -> None:
    tracker = conversation()
    action_payload.action_call_format(SELECTIVE, tracker, DOMAIN)
    late = SlotSet("verified", True, timestamp=1.0)
    tracker.update(late)
    action_payload.action_call_format(SELECTIVE, tracker, DOMAIN)
    sent_json(SELECTIVE, tracker)
    late.timestamp = 2.5  # as update_with_events(override_timestamp=True) does
    sent = action_payload.action_call_format(SELECTIVE, tracker, DOMAIN)["tracker"]["events"]
    assert sent[-1]["timestamp"] == 2.5
    assert sent == rasas(SELECTIVE, tracker)["tracker"]["events"]
    assert sent_json(SELECTIVE, tracker)["tracker"]["events"][-1]["timestamp"] == 2.5


def test_a_changed_deep_copy_of_a_user_event_is_sent_as_changed() -> None:
    tracker = conversation()
    action_payload.action_call_format(SELECTIVE, tracker, DOMAIN)  # the original's dict is kept
    clarified = copy.deepcopy(tracker.latest_message)  # as the two-stage fallback does
    clarified.parse_data["intent"]["confidence"] = 1.0
    tracker.update(clarified)
    sent = action_payload.action_call_format(SELECTIVE, tracker, DOMAIN)["tracker"]["events"]
    assert [e["parse_data"]["intent"]["confidence"] for e in sent if e["event"] == "user"] == [0.61, 1.0]
    assert sent == rasas(SELECTIVE, tracker)["tracker"]["events"]
    encoded = sent_json(SELECTIVE, tracker)["tracker"]["events"]
    assert [e["parse_data"]["intent"]["confidence"] for e in encoded if e["event"] == "user"] == [0.61, 1.0]
