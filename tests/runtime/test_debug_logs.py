"""Policies' debug-only deep copies and state texts are built only when debug logging is on."""
from __future__ import annotations

import logging

import pytest
import rasa.core.policies.memoization as memoization
import rasa.core.policies.rule_policy as rule_policy
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

    assert memoization.copy is debug_logs.LOG_ONLY_COPY and rule_policy.copy is debug_logs.LOG_ONLY_COPY
    assert rule_policy.RulePolicy.format_tracker_states([{}]) == debug_logs.format_if_logged([{}])


def test_nothing_is_copied_or_formatted_without_debug_logging(rasa_level) -> None:
    rasa_level(logging.INFO)
    assert memoization.copy.deepcopy(STATES) is STATES
    assert rule_policy.RulePolicy.format_tracker_states(STATES) == ""


def test_with_debug_logging_the_log_gets_a_copy_and_the_text(rasa_level) -> None:
    rasa_level(logging.DEBUG)
    copied = memoization.copy.deepcopy(STATES)
    assert copied == STATES and copied is not STATES and copied[0]["user"] is not STATES[0]["user"]
    assert rule_policy.RulePolicy.format_tracker_states(STATES) == Policy.format_tracker_states(STATES) != ""
