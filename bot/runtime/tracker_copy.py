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
from typing import Any, Dict

import rasa.shared.core.trackers as rasa_trackers
from rasa.shared.core.trackers import DialogueStateTracker

_ORIGINAL = DialogueStateTracker.copy
_PLAIN: Dict[type, bool] = {}


def _is_plain(cls: type) -> bool:
    """Whether ``copy.copy`` of an instance is just a new instance with the same ``__dict__``: no
    ``__copy__``, no own reduce or state protocol, no ``__slots__``."""
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = (
            getattr(cls, "__copy__", None) is None
            and cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and getattr(cls, "__getstate__", None) is None
            and getattr(cls, "__setstate__", None) is None
            and getattr(cls, "__getnewargs__", None) is None
            and getattr(cls, "__getnewargs_ex__", None) is None
            # an empty ``__slots__`` (``abc.ABC``'s, under every Rasa slot class) adds no slot to copy
            and all(not vars(base).get("__slots__", ()) for base in cls.__mro__[:-1])
        )
        _PLAIN[cls] = plain
    return plain


def shallow_copy(obj: Any) -> Any:
    """``copy.copy(obj)`` without its reduce protocol round trip (5x faster for a slot) when that is
    all ``copy.copy`` would do; ``copy.copy`` otherwise."""
    cls = type(obj)
    state = getattr(obj, "__dict__", None)
    if state is None or not _is_plain(cls):
        return copy.copy(obj)  # None, builtins, classes with their own protocol
    clone = cls.__new__(cls)
    clone.__dict__.update(state)
    return clone


def fast_copy(self: DialogueStateTracker) -> DialogueStateTracker:
    if self.events.maxlen is not None:
        # ``max_event_history``: the replay of the kept events forgets what older ones set; keep
        # Rasa's behaviour (this project's tracker store does not bound the history this way).
        return _ORIGINAL(self)
    clone = DialogueStateTracker.__new__(DialogueStateTracker)
    clone.__dict__.update(self.__dict__)
    clone.events = deque(self.events)
    clone.slots = {slot.name: shallow_copy(slot) for slot in self.slots.values()}  # as init_copy builds them
    clone.latest_action = dict(self.latest_action) if self.latest_action is not None else None
    clone.active_loop = shallow_copy(self.active_loop)  # a dataclass the tracker changes in place
    clone.model_id = None  # what init_copy leaves unset
    clone.assistant_id = None
    clone.sender_source = None
    for cached in [key for key in clone.__dict__ if key.startswith("_northwind_")]:
        del clone.__dict__[cached]  # per-object caches (states_cache) belong to the original
    return clone


class _SlotCopies:
    """Stands in for the ``copy`` module in ``rasa.shared.core.trackers``, whose one use of it is
    ``copy.copy(slot)`` for every slot of every new tracker (``init_copy``, ``from_events``, each
    prior tracker the dialogue states replay): ``shallow_copy`` does the same without the reduce
    protocol round trip."""

    copy = staticmethod(shallow_copy)


def install() -> None:
    DialogueStateTracker.copy = fast_copy  # type: ignore[assignment]
    rasa_trackers.copy = _SlotCopies  # type: ignore[assignment]


def uninstall() -> None:
    DialogueStateTracker.copy = _ORIGINAL  # type: ignore[assignment]
    rasa_trackers.copy = copy


__all__ = ["fast_copy", "install", "shallow_copy", "uninstall"]
