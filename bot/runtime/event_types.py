"""Look event classes up by name in a dictionary instead of walking every subclass of ``Event``.

Rasa 3.6's ``Event.resolve_by_type`` recomputes ``all_subclasses(Event)`` for every event it
deserialises - each tracker loaded from the tracker store and each action server response; in
``make bench`` that walk was 4.5 % of the Rasa server's CPU. Here the name -> class table is built
once and rebuilt when a name is not found (a subclass defined later), then Rasa's own lookup
decides, so results and errors are unchanged.
"""
from __future__ import annotations

from typing import Dict, Optional, Text, Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_ORIGINAL = Event.resolve_by_type
_table: Dict[Text, Type[Event]] = {}


def _rebuild() -> None:
    table: Dict[Text, Type[Event]] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)  # the first match, as Rasa's loop returns it
    _table.clear()
    _table.update(table)


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    cls = _table.get(type_name)
    if cls is not None:
        return cls
    _rebuild()
    cls = _table.get(type_name)
    if cls is not None:
        return cls
    return _ORIGINAL(type_name, default)  # "topic", the default, or Rasa's ValueError


def install() -> None:
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]


def uninstall() -> None:
    Event.resolve_by_type = staticmethod(_ORIGINAL)  # type: ignore[assignment]


__all__ = ["install", "resolve_by_type", "uninstall"]
