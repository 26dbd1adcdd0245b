"""RulePolicy's rule matching without checking every rule against every past turn.

``RulePolicy._get_possible_keys`` starts from all learned rules (200 here) and, for each state of
the conversation from the newest back to the first, keeps the rules applicable at that turn. Two
things make that cost grow with the conversation for nothing: every rule is checked at the newest
turn although a rule can only match if its last state has the conversation's previous action, and
the loop goes on through the whole session although a rule is always applicable at a turn older than
its own length (``_is_rule_applicable`` returns ``True`` there). It ran twice per prediction (text,
then intent), 7 % of the Rasa server's CPU in ``make bench``.

Here the same check (``_is_rule_applicable``, unchanged) runs

- at the newest turn only on the rules whose last state names the conversation's previous action,
  plus the rules whose last state does not name one (an index built once per lookup table);
- at older turns only while some remaining rule is that long, and not at all once none is left.

The check itself is Rasa's ``_is_rule_applicable`` on the rule's states parsed once per lookup table:
Rasa's ``json.loads`` the rule's key for every check (13 % of the Rasa server's time per message in
``make bench`` once the intent rules grew, most of it parsing).

The result is the same set of rules: a rule left out at the newest turn would fail the previous-action
comparison in ``_does_rule_match_state``, and a rule past its length would pass.
``tests/runtime/test_rule_index.py`` compares both on every state sequence of the project's stories
and rules, and ``tests/runtime/test_graph_runner.py`` the predictions of the trained model.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Optional, Set, Text, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import State
from rasa.shared.nlu.constants import ACTION_NAME

_ORIGINAL = RulePolicy._get_possible_keys
_RASAS_CHECK = RulePolicy._is_rule_applicable
INDEX_ATTRIBUTE = "_northwind_rule_index"

# per lookup table: previous action -> rules, rules that name none, each rule's length, each rule's
# states newest first
Index = Tuple[Dict[Text, List[Text]], List[Text], Dict[Text, int], Dict[Text, List[State]]]


def _index(policy: RulePolicy, lookup: Dict[Text, Text]) -> Index:
    indexes: Dict[int, Tuple[int, Index]] = policy.__dict__.setdefault(INDEX_ATTRIBUTE, {})
    cached = indexes.get(id(lookup))
    if cached is not None and cached[0] == len(lookup):
        return cached[1]
    by_action: Dict[Text, List[Text]] = defaultdict(list)
    unnamed: List[Text] = []
    lengths: Dict[Text, int] = {}
    newest_first: Dict[Text, List[State]] = {}
    for key in lookup:
        rule_states = policy._rule_key_to_state(key)
        lengths[key] = len(rule_states)
        newest_first[key] = list(reversed(rule_states))
        action = _previous_action(rule_states[-1]) if rule_states else None
        (by_action[action] if action is not None else unnamed).append(key)
    index = (dict(by_action), unnamed, lengths, newest_first)
    indexes[id(lookup)] = (len(lookup), index)
    return index


def _previous_action(state: State) -> Optional[Text]:
    value = (state.get(PREVIOUS_ACTION) or {}).get(ACTION_NAME)
    return value if value and value != SHOULD_NOT_BE_SET else None


def _is_applicable(rule_states: List[State], turn_index: int, conversation_state: State) -> bool:
    """``RulePolicy._is_rule_applicable`` on the rule's states, newest first, already parsed."""
    if turn_index >= len(rule_states):
        return True
    current_previous_action = conversation_state.get(PREVIOUS_ACTION)
    rule_previous_action = rule_states[turn_index].get(PREVIOUS_ACTION)
    if not rule_previous_action and not current_previous_action:
        return True
    if not rule_previous_action or not current_previous_action:
        return False
    return RulePolicy._does_rule_match_state(rule_states[turn_index], conversation_state)


def get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
    by_action, unnamed, lengths, newest_first = _index(self, lookup)
    if not states:
        return set(lookup.keys())
    action = _previous_action(states[-1])
    if action is None:
        possible: Set[Text] = set(lookup.keys())
    else:
        possible = set(by_action.get(action, ())) | set(unnamed)
    for i, state in enumerate(reversed(states)):
        if not possible or i >= max(lengths[key] for key in possible):
            break  # nothing left, or every rule left is shorter than this: all of them apply
        if type(self)._is_rule_applicable is _RASAS_CHECK:
            possible = {key for key in possible if _is_applicable(newest_first[key], i, state)}
        else:  # a subclass with its own check
            possible = {key for key in possible if self._is_rule_applicable(key, i, state)}
    return possible


def install() -> None:
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[assignment]


def uninstall() -> None:
    RulePolicy._get_possible_keys = _ORIGINAL  # type: ignore[assignment]


__all__ = ["get_possible_keys", "install", "uninstall"]
