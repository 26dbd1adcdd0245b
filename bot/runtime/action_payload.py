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
only ever go to the JSON encoder of this request; everything else that asks an event for
``as_dict`` gets a fresh one as before. ``tests/runtime/test_action_payload.py`` compares the request
with Rasa's own on every story and rule tracker of the project.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

_ORIGINAL = RemoteAction._action_call_format
_KEPT = "_northwind_as_dict"


def event_dict(event: Event) -> Dict[Text, Any]:
    """``event.as_dict()``, made once per event (see the module docstring). Do not change it."""
    kept = event.__dict__.get(_KEPT)
    if kept is not None and kept[0] == id(event) and kept[1] == event.timestamp:
        return kept[2]
    data = event.as_dict()
    event.__dict__[_KEPT] = (id(event), event.timestamp, data)
    return data


def tracker_state(tracker: DialogueStateTracker) -> Dict[Text, Any]:
    """``tracker.current_state(EventVerbosity.ALL)`` with the kept event dicts."""
    state = tracker.current_state(EventVerbosity.NONE)  # everything but the events
    events: List[Dict[Text, Any]] = [event_dict(event) for event in tracker.events]
    state["events"] = events
    return state


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


__all__ = ["action_call_format", "event_dict", "install", "tracker_state", "uninstall"]
