"""Policies' debug-only deep copies and state texts are built only when debug logging is on."""
from __future__ import annotations

import ast
import inspect
import logging
from typing import List

import pytest
import rasa.core.actions.forms as forms
import rasa.core.policies.memoization as memoization
import rasa.core.policies.rule_policy as rule_policy
import rasa.core.processor as processor
from rasa.core.policies.policy import Policy

from bot.runtime import debug_logs

STATES = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}},
          {"prev_action": {"action_name": "utter_greet"}, "slots": {"verified": (1.0,)}}]


@pytest.fixture
def rasa_level():
    logger = logging.getLogger("rasa")
    before = logger.level
    yield logger.setLevel
    logger.setLevel(before)


def test_installed_in_the_server() -> None:
    import bot.runtime  # noqa: F401

    assert {module.__name__ for module in debug_logs.MODULES} == {
        "rasa.core.policies.memoization", "rasa.core.policies.rule_policy", "rasa.core.processor",
        "rasa.core.actions.forms"}
    assert all(module.copy is debug_logs.LOG_ONLY_COPY for module in debug_logs.MODULES)
    assert rule_policy.RulePolicy.format_tracker_states([{}]) == debug_logs.format_if_logged([{}])


def test_nothing_is_copied_or_formatted_without_debug_logging(rasa_level) -> None:
    rasa_level(logging.INFO)
    assert all(module.copy.deepcopy(STATES) is STATES for module in debug_logs.MODULES)
    assert rule_policy.RulePolicy.format_tracker_states(STATES) == ""


def test_with_debug_logging_the_log_gets_a_copy_and_the_text(rasa_level) -> None:
    rasa_level(logging.DEBUG)
    copied = memoization.copy.deepcopy(STATES)
    assert copied == STATES and copied is not STATES and copied[0]["user"] is not STATES[0]["user"]
    assert rule_policy.RulePolicy.format_tracker_states(STATES) == Policy.format_tracker_states(STATES) != ""


def _copy_uses_outside_debug_calls(source: str) -> List[str]:
    """Every ``copy.<name>`` in the source that is not an argument of a ``*.debug(...)`` call."""
    tree = ast.parse(source)
    inside_debug = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "debug":
            inside_debug.update(id(n) for n in ast.walk(node))
    return [f"line {node.lineno}: copy.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "copy" and (node.attr != "deepcopy" or id(node) not in inside_debug)]


@pytest.mark.parametrize("module", debug_logs.MODULES, ids=lambda m: m.__name__)
def test_the_patched_modules_copy_only_for_debug_log_lines(module) -> None:
    assert _copy_uses_outside_debug_calls(inspect.getsource(module)) == []


def test_the_source_check_finds_a_copy_that_is_not_for_a_log_line() -> None:
    source = "import copy\nx = copy.deepcopy(y)\nlogger.debug('a', b=copy.deepcopy(y))\nz = copy.copy(y)\n"
    assert _copy_uses_outside_debug_calls(source) == ["line 2: copy.deepcopy", "line 4: copy.copy"]

