"""``DialogueStateTracker.applied_events`` resumed from where the last call on the tracker ended.

Rasa 3.6 computes a tracker's applied events (the session without reverted turns and with a form's
earlier executions folded away) from the first event every time it is asked: once per message to
decide whether a session starts (``MessageProcessor._update_tracker_session``, only to see whether
the list is empty), and again for each prediction of the turn (the dialogue states,
``bot/runtime/states_cache.py``), each a walk over the whole session with several ``isinstance``
checks against Rasa's event ABCs per event (~3 % of the Rasa server's CPU in ``make bench``).

The walk is a left fold over the events whose only input besides them is the set of form names
that appear in ``active_loop`` events anywhere in the tracker. Within a turn the tracker only grows,
so the fold is kept on the tracker (its events so far, the form names, the result) and resumed with
the new events when the tracker's events still start with the ones folded (by identity) and no new
form name appeared; otherwise it starts again from the first event, as Rasa does every time. Each
caller gets its own list. ``tests/runtime/test_applied_events.py`` compares the result with Rasa's
after every event of every story and rule, and after reverts, restarts and forms.
"""
from __future__ import annotations

import itertools
from typing import List, Optional, Set, Text

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

FOLD_ATTRIBUTE = "_northwind_applied_fold"  # dropped by tracker copies (bot/runtime/tracker_copy.py)
_ORIGINAL = DialogueStateTracker.applied_events


class _Fold:
    """The events folded so far, the form names they were folded with, and the applied events."""

    __slots__ = ("seen", "loop_names", "applied")

    def __init__(self) -> None:
        self.seen: List[Event] = []
        self.loop_names: Set[Text] = set()
        self.applied: List[Event] = []

    def copy(self) -> "_Fold":
        clone = _Fold()
        clone.seen, clone.loop_names, clone.applied = list(self.seen), set(self.loop_names), list(self.applied)
        return clone


def _loop_names(events: List[Event]) -> Set[Text]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _new_events(fold: _Fold, tracker: DialogueStateTracker) -> Optional[List[Event]]:
    """The tracker's events after the folded ones; ``None`` when they do not start with those."""
    events = tracker.events
    done = len(fold.seen)
    if len(events) < done:
        return None
    if not all(a is b for a, b in zip(fold.seen, events)):
        return None
    return list(itertools.islice(events, done, None))


def _apply(tracker: DialogueStateTracker, fold: _Fold, events: List[Event]) -> None:
    """Rasa's loop body (``DialogueStateTracker.applied_events``) for each of ``events``."""
    applied, loop_names = fold.applied, fold.loop_names
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
        fold.seen.append(event)


def applied_events(self: DialogueStateTracker) -> List[Event]:
    if self.events.maxlen is not None:  # ``max_event_history``: old events drop off the left
        return _ORIGINAL(self)
    fold: Optional[_Fold] = self.__dict__.get(FOLD_ATTRIBUTE)
    new = _new_events(fold, self) if fold is not None else None
    if fold is None or new is None or not _loop_names(new) <= fold.loop_names:
        fold = _Fold()
        new = list(self.events)
        fold.loop_names = _loop_names(new)
        self.__dict__[FOLD_ATTRIBUTE] = fold
    if new:
        _apply(self, fold, new)
    return list(fold.applied)


def carry_over(source: DialogueStateTracker, target: DialogueStateTracker) -> None:
    """Give ``target`` (a copy of ``source`` with the same event objects) the fold of ``source``."""
    fold = source.__dict__.get(FOLD_ATTRIBUTE)
    if fold is not None:
        target.__dict__[FOLD_ATTRIBUTE] = fold.copy()


def install() -> None:
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]


def uninstall() -> None:
    DialogueStateTracker.applied_events = _ORIGINAL  # type: ignore[assignment]


__all__ = ["applied_events", "carry_over", "install", "uninstall"]
