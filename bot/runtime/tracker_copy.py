"""Copy a tracker without replaying its events.

Rasa 3.6's ``DialogueStateTracker.copy`` is ``travel_back_in_time(inf)``: a blank tracker that
applies every event of the session again. The processor copies the tracker before running each
action (``MessageProcessor._run_action``: a temporary tracker, in case the action is rejected) and
forms copy it again to validate; with ~3 actions a turn that is 3+ replays of the session per
message (2-4 % of the Rasa server's CPU in ``make bench``, growing with the session).

A tracker's state must be re-creatable by processing its events (Rasa's own rule, see the comment in
``DialogueStateTracker.__init__``), so the copy takes the state as it is: the same event objects in a
new deque (the replay shares them too), slot objects copied with their values, the loop and latest
action and the active loop copied. Like ``travel_back_in_time``, the copy has no ``model_id``,
``assistant_id`` or ``sender_source``. ``tests/runtime/test_tracker_copy.py`` compares both copies on every story and rule
tracker of the project, and checks that changing a copy leaves the original alone.
"""
from __future__ import annotations

import copy
from collections import deque

from rasa.shared.core.trackers import DialogueStateTracker

_ORIGINAL = DialogueStateTracker.copy


def fast_copy(self: DialogueStateTracker) -> DialogueStateTracker:
    if self.events.maxlen is not None:
        # ``max_event_history``: the replay of the kept events forgets what older ones set; keep
        # Rasa's behaviour (this project's tracker store does not bound the history this way).
        return _ORIGINAL(self)
    clone = DialogueStateTracker.__new__(DialogueStateTracker)
    clone.__dict__.update(self.__dict__)
    clone.events = deque(self.events)
    clone.slots = {slot.name: copy.copy(slot) for slot in self.slots.values()}  # as init_copy builds them
    clone.latest_action = dict(self.latest_action) if self.latest_action is not None else None
    clone.active_loop = copy.copy(self.active_loop)  # a dataclass the tracker changes in place
    clone.model_id = None  # what init_copy leaves unset
    clone.assistant_id = None
    clone.sender_source = None
    for cached in [key for key in clone.__dict__ if key.startswith("_northwind_")]:
        del clone.__dict__[cached]  # per-object caches (states_cache) belong to the original
    return clone


def install() -> None:
    DialogueStateTracker.copy = fast_copy  # type: ignore[assignment]


def uninstall() -> None:
    DialogueStateTracker.copy = _ORIGINAL  # type: ignore[assignment]


__all__ = ["fast_copy", "install", "uninstall"]
