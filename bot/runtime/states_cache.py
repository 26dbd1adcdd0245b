"""Compute a tracker's dialogue states once per prediction, not once per policy and pass.

To predict one action, Rasa 3.6 builds the states of every earlier turn of the conversation
(``DialogueStateTracker.past_states``: replay every event, take the state at each action) in
MemoizationPolicy once and in RulePolicy twice (text, then intent), for the same tracker; that was
the largest single cost of the policies in ``make bench``. Here the result is kept on the tracker
object, keyed by the arguments and by the tracker's length and last event, and each caller gets
its own copy (callers edit the last state in place). A tracker that changes - a new event - has a
new key, so the states are computed again.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.shared.core.domain import Domain, State
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
    cache: Dict[Tuple, Tuple[Tuple, List[State]]] = self.__dict__.setdefault(CACHE_ATTRIBUTE, {})
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return _copy(hit[1])
    states = _ORIGINAL(self, domain, omit_unset_slots=omit_unset_slots,
                       ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)
    for stale in [k for k, (v, _) in cache.items() if v != version]:
        del cache[stale]  # only the tracker's latest version is worth keeping
    cache[key] = (version, _copy(states))
    return states


def install() -> None:
    DialogueStateTracker.past_states = past_states  # type: ignore[assignment]


def uninstall() -> None:
    DialogueStateTracker.past_states = _ORIGINAL  # type: ignore[assignment]


__all__ = ["install", "past_states", "uninstall"]
