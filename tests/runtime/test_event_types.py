"""Event classes by name: the table gives what Rasa's walk over every subclass gives."""
from __future__ import annotations

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from bot.runtime import event_types


def rasa_lookup(name: str):
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        if cls.type_name == name:
            return cls
    return None


def test_installed_when_bot_runtime_is_imported() -> None:
    import bot.runtime  # noqa: F401

    assert Event.resolve_by_type("slot") is SlotSet


@pytest.mark.parametrize("cls", rasa.shared.utils.common.all_subclasses(Event))
def test_every_event_name_resolves_to_rasas_class(cls) -> None:
    assert event_types.resolve_by_type(cls.type_name) is rasa_lookup(cls.type_name)


def test_unknown_names_behave_as_in_rasa() -> None:
    assert event_types.resolve_by_type("topic") is None
    assert event_types.resolve_by_type("nope", default=UserUttered) is UserUttered
    with pytest.raises(ValueError, match="Unknown event name 'nope'"):
        event_types.resolve_by_type("nope")


def test_a_subclass_defined_later_is_found() -> None:
    class LateEvent(ActionExecuted):
        type_name = "late_event_for_test"

    assert event_types.resolve_by_type("late_event_for_test") is LateEvent


def test_events_round_trip_through_deserialisation() -> None:
    event = SlotSet("verified", True, timestamp=1.0)
    assert Event.from_parameters(event.as_dict()) == event
