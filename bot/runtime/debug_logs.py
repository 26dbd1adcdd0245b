"""No deep copies and formatting for debug log lines that are not logged.

MemoizationPolicy and RulePolicy pass ``copy.deepcopy(states)`` and a formatted text of every state
(``format_tracker_states``) to ``structlogger.debug`` on every prediction; the arguments are built
whether or not debug logging is on (1-2 % of the Rasa server's CPU in ``make bench``). Those are the
only uses of ``copy`` in the two modules and of ``format_tracker_states`` in RulePolicy. Here both
are built only while the ``rasa`` logger is at DEBUG (``rasa run --debug``, ``LOG_LEVEL=DEBUG``);
otherwise the debug call receives the states themselves, and an empty text.
"""
from __future__ import annotations

import copy
import logging
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Text

import rasa.core.policies.memoization as memoization
import rasa.core.policies.rule_policy as rule_policy
from rasa.core.policies.policy import Policy

_RASA_LOGGER = logging.getLogger("rasa")
_ORIGINAL_FORMAT = Policy.format_tracker_states


def debug_enabled() -> bool:
    return _RASA_LOGGER.isEnabledFor(logging.DEBUG)


def deepcopy_if_logged(value: Any, memo: Optional[Dict[int, Any]] = None) -> Any:
    return copy.deepcopy(value, memo) if debug_enabled() else value


def format_if_logged(states: List[Dict]) -> Text:
    return _ORIGINAL_FORMAT(states) if debug_enabled() else ""


LOG_ONLY_COPY = SimpleNamespace(deepcopy=deepcopy_if_logged)


def install() -> None:
    memoization.copy = LOG_ONLY_COPY  # type: ignore[assignment]
    rule_policy.copy = LOG_ONLY_COPY  # type: ignore[assignment]
    rule_policy.RulePolicy.format_tracker_states = staticmethod(format_if_logged)  # type: ignore[assignment]


def uninstall() -> None:
    memoization.copy = copy  # type: ignore[assignment]
    rule_policy.copy = copy  # type: ignore[assignment]
    if "format_tracker_states" in rule_policy.RulePolicy.__dict__:
        del rule_policy.RulePolicy.format_tracker_states


__all__ = ["debug_enabled", "install", "uninstall"]
