"""No deep copies and formatting for debug log lines that are not logged.

MemoizationPolicy and RulePolicy pass ``copy.deepcopy(states)`` and a formatted text of every state
(``format_tracker_states``) to ``structlogger.debug`` on every prediction; the arguments are built
whether or not debug logging is on (1-2 % of the Rasa server's CPU in ``make bench``). The message
processor and the form action do the same with the parse data, the events of every action and, on
every form turn, the whole latest message (``forms.validation.required``): another ~3 % of the Rasa
server's samples in a ``make bench --profile`` run. Those are the only uses of ``copy`` in the four
modules (rasa/core/policies/memoization.py, rule_policy.py, rasa/core/processor.py,
rasa/core/actions/forms.py; ``tests/runtime/test_debug_logs.py`` checks it in their source) and of
``format_tracker_states`` in RulePolicy. Here both are built only while the ``rasa`` logger is at
DEBUG (``rasa run --debug``, ``LOG_LEVEL=DEBUG``); otherwise the debug call receives the values
themselves, and an empty text.
"""
from __future__ import annotations

import copy
import logging
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Text

import rasa.core.actions.forms as forms
import rasa.core.policies.memoization as memoization
import rasa.core.policies.rule_policy as rule_policy
import rasa.core.processor as processor
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
MODULES = (memoization, rule_policy, processor, forms)  # each uses ``copy`` only for debug log lines


def install() -> None:
    for module in MODULES:
        module.copy = LOG_ONLY_COPY  # type: ignore[attr-defined]
    rule_policy.RulePolicy.format_tracker_states = staticmethod(format_if_logged)  # type: ignore[assignment]


def uninstall() -> None:
    for module in MODULES:
        module.copy = copy  # type: ignore[attr-defined]
    if "format_tracker_states" in rule_policy.RulePolicy.__dict__:
        del rule_policy.RulePolicy.format_tracker_states


__all__ = ["debug_enabled", "install", "uninstall"]
