"""The action server's request built from event dicts kept between calls.

Rasa 3.6's ``RemoteAction._action_call_format`` sends the whole session with every call:
``tracker.current_state(EventVerbosity.ALL)`` turns every event into a dict (``Event.as_dict``) each
time, although the events of a session never change once applied. With one to three action calls a
turn and 20-150 events a session, that was ~8 % of the Rasa server's time per message in
``make bench`` (py-spy), growing with the session.

Here each event's dict is made once and kept on the event, tagged with the event's identity and
timestamp: Rasa changes an applied event in two ways only, both covered - it re-stamps events it
applies late (``update_with_events(override_timestamp=True)``), and it deep-copies a user event and
then changes the copy's confidence (two-stage fallback, ``ActionRevertFallbackEvents``); the copy
carries the tag of the original, whose identity is not its own, so it is rebuilt. The kept dicts
only ever go to a JSON encoder - this request's, and the tracker store's row for the event
(bot/runtime/store.py); everything else that asks an event for ``as_dict`` gets a fresh one as before. ``tests/runtime/test_action_payload.py`` compares the request
with Rasa's own on every story and rule tracker of the project.

The JSON text of each kept dict is kept too: the request's events are a list of the kept dicts that
also knows its events (``EncodedEvents``), and :func:`dumps` - the pooled HTTP session's encoder
(bot/runtime/http_pool.py) - encodes the rest of the request and puts the kept texts in place of the
events, so an event is encoded once per session, not once per action call (1-3 calls a turn).
"""
from __future__ import annotations

import functools
import uuid
from typing import Any, Dict, List, Sequence, Text

import ujson
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

_ORIGINAL = RemoteAction._action_call_format
_KEPT = "_northwind_as_dict"
_KEPT_JSON = "_northwind_json"
# ujson (already a dependency of Sanic) encodes ~2.4x faster than json, the same JSON (NaN included)
encode = functools.partial(ujson.dumps, escape_forward_slashes=False)
# Stands for the events while the rest of a request is encoded: random per process, so no text a
# customer types can be it.
_PLACEHOLDER = f"northwind-events-{uuid.uuid4().hex}"
_PLACEHOLDER_JSON = encode(_PLACEHOLDER)


def event_dict(event: Event) -> Dict[Text, Any]:
    """``event.as_dict()``, made once per event (see the module docstring). Do not change it."""
    kept = event.__dict__.get(_KEPT)
    if kept is not None and kept[0] == id(event) and kept[1] == event.timestamp:
        return kept[2]
    data = event.as_dict()
    event.__dict__[_KEPT] = (id(event), event.timestamp, data)
    return data


def event_json(event: Event) -> Text:
    """The JSON text of :func:`event_dict`, made once per kept dict."""
    data = event_dict(event)
    kept = event.__dict__.get(_KEPT_JSON)
    if kept is not None and kept[0] is data:
        return kept[1]
    text = encode(data)
    event.__dict__[_KEPT_JSON] = (data, text)
    return text


class EncodedEvents(List[Dict[Text, Any]]):
    """The events' kept dicts, a plain list to everything that reads it, and their kept JSON texts."""

    def __init__(self, events: Sequence[Event]) -> None:
        super().__init__(event_dict(event) for event in events)
        self.events = events

    def json(self) -> Text:
        return "[" + ",".join(event_json(event) for event in self.events) + "]"


def tracker_state(tracker: DialogueStateTracker) -> Dict[Text, Any]:
    """``tracker.current_state(EventVerbosity.ALL)`` with the kept event dicts."""
    state = tracker.current_state(EventVerbosity.NONE)  # everything but the events
    state["events"] = EncodedEvents(list(tracker.events))
    return state


def dumps(body: Any) -> Text:
    """JSON of a request body; an action call's events from their kept texts (same JSON as
    ``encode(body)``)."""
    tracker = body.get("tracker") if type(body) is dict else None
    events = tracker.get("events") if type(tracker) is dict else None
    if not isinstance(events, EncodedEvents):
        return encode(body)
    text = encode({**body, "tracker": {**tracker, "events": _PLACEHOLDER}})
    head, found, tail = text.partition(_PLACEHOLDER_JSON)
    if not found:  # pragma: no cover - the encoder always writes the placeholder
        return encode(body)
    return head + events.json() + tail


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Any) -> Dict[Text, Any]:
    """``RemoteAction._action_call_format`` with :func:`tracker_state`."""
    import rasa

    result: Dict[Text, Any] = {
        "next_action": self._name,
        "sender_id": tracker.sender_id,
        "tracker": tracker_state(tracker),
        "version": rasa.__version__,
    }
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def install() -> None:
    RemoteAction._action_call_format = action_call_format  # type: ignore[assignment]


def uninstall() -> None:
    RemoteAction._action_call_format = _ORIGINAL  # type: ignore[assignment]


__all__ = ["EncodedEvents", "action_call_format", "dumps", "encode", "event_dict", "event_json", "install",
           "tracker_state", "uninstall"]
