"""Compute a tracker's dialogue states once per prediction, not once per policy and pass.

To predict one action, Rasa 3.6 builds the states of every earlier turn of the conversation
(``DialogueStateTracker.past_states``: replay every event, take the state at each action) in
MemoizationPolicy once and in RulePolicy twice (text, then intent), for the same tracker; that was
the largest single cost of the policies in ``make bench``. Here the result is kept on the tracker
object, keyed by the arguments and by the tracker's length and last event, and each caller gets
its own copy (callers edit the last state in place). A tracker that changes - a new event - has a
new key, so the states are computed again.

Computed again *incrementally*: within a turn the tracker only grows (each predicted action adds
events), and the states of the turns before do not change. For each set of arguments the cache keeps
where ``Domain.states_for_tracker_history`` had got to - the events it replayed, its replay tracker,
the states so far and its two loop variables - and on the next call replays only the new events.
Whenever the tracker's applied events are not an extension of those (a revert, a restart, a form
collapsing its earlier turns, a loop that becomes active), it starts again from the first event, as
Rasa does every time. ``tests/runtime/test_states_cache.py`` compares the result with Rasa's after
every event of every story and rule.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

import rasa.shared.core.constants
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

CACHE_ATTRIBUTE = "_northwind_states_cache"
_ORIGINAL = DialogueStateTracker.past_states


def _copy(states: List[State]) -> List[State]:
    # A state is {sub-state name: {feature: str | tuple}}: two levels of dicts, immutable leaves.
    return [{name: dict(sub) for name, sub in state.items()} for state in states]


def _rule_only_key(rule_only_data: Optional[Dict[Text, Any]]) -> Tuple:
    if not rule_only_data:
        return ()
    return tuple(sorted((key, tuple(value) if isinstance(value, (list, tuple, set)) else value)
                        for key, value in rule_only_data.items()))


class _Replay:
    """``Domain.states_for_tracker_history`` as a loop that can be resumed with more events."""

    def __init__(self, tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool,
                 ignore_rule_only_turns: bool, rule_only_data: Optional[Dict[Text, Any]]) -> None:
        self.domain, self.omit, self.ignore, self.rule_only = domain, omit_unset_slots, ignore_rule_only_turns, \
            rule_only_data
        self.tracker = tracker.init_copy()  # what generate_all_prior_trackers replays on
        self.replayed: List[Event] = []
        self.states: List[State] = []
        self.last_ml_action_sub_state: Optional[SubState] = None
        self.turn_was_hidden = False

    def extends(self, applied: List[Event]) -> bool:
        done = self.replayed
        return len(applied) >= len(done) and all(a is b for a, b in zip(applied, done))

    def replay(self, applied: List[Event]) -> None:
        for event in applied[len(self.replayed):]:
            if isinstance(event, ActionExecuted):
                state = self._state(event.hide_rule_turn, commit=True)
                if state is not None:
                    self.states.append(state)
            self.tracker.update(event)
            self.replayed.append(event)

    def result(self) -> List[State]:
        """The states so far and the one of the tracker as it is now (the generator's last yield)."""
        last = self._state(False, commit=False)
        return self.states + ([last] if last is not None else [])

    def _state(self, hide_rule_turn: bool, commit: bool) -> Optional[State]:
        """One iteration of Rasa's loop body; ``commit=False`` leaves the loop variables alone."""
        domain, tr = self.domain, self.tracker
        last_ml, hidden = self.last_ml_action_sub_state, self.turn_was_hidden
        if self.ignore:
            if not hidden:
                last_ml = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                hidden = hide_rule_turn
        if commit:
            self.last_ml_action_sub_state, self.turn_was_hidden = last_ml, hidden
        if self.ignore and hidden:
            return None
        state = domain.get_active_state(tr, omit_unset_slots=self.omit)
        if self.ignore:
            domain._remove_rule_only_features(state, self.rule_only)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if last_ml:
                state[rasa.shared.core.constants.PREVIOUS_ACTION] = last_ml
        return domain._clean_state(state)


APPLIED_ATTRIBUTE = "_northwind_applied_events"


def _applied_events(tracker: DialogueStateTracker, version: Tuple) -> List[Event]:
    """``tracker.applied_events()`` once per tracker version (a scan of the whole session), shared by
    every argument set (MemoizationPolicy's and RulePolicy's)."""
    cached = tracker.__dict__.get(APPLIED_ATTRIBUTE)
    if cached is None or cached[0] != version:
        cached = (version, tracker.applied_events())
        tracker.__dict__[APPLIED_ATTRIBUTE] = cached
    return cached[1]


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    events = self.events
    version = (len(events), id(events[-1]) if events else None)
    key = (id(domain), omit_unset_slots, ignore_rule_only_turns, _rule_only_key(rule_only_data))
    cache: Dict[Tuple, Tuple[Tuple, List[State], _Replay]] = self.__dict__.setdefault(CACHE_ATTRIBUTE, {})
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return _copy(hit[1])
    applied = _applied_events(self, version)
    replay = hit[2] if hit is not None and hit[2].domain is domain and hit[2].extends(applied) else None
    if replay is None:
        replay = _Replay(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    replay.replay(applied)
    states = replay.result()  # the replay's own dicts: callers get copies
    cache[key] = (version, states, replay)
    return _copy(states)


def install() -> None:
    DialogueStateTracker.past_states = past_states  # type: ignore[assignment]


def uninstall() -> None:
    DialogueStateTracker.past_states = _ORIGINAL  # type: ignore[assignment]


__all__ = ["install", "past_states", "uninstall"]
