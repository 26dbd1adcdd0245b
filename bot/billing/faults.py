"""A test-only fault-injection point: end the process right after a money operation commits.

``BILLING_FAULT_CRASH_AFTER_COMMIT`` is read once, when this module is imported (at the action
server's start). Empty or unset (always, outside the fault tests): nothing happens. Set to ``1``:
the process exits (``os._exit``, no cleanup, as a crash or ``kill -9`` would) right after the
first money-moving operation (refund, credit note, fee reversal, goodwill credit, payment plan)
has committed, before any reply is written. Set to operation names (``refund,payment_plan``): only
after those. tests/faults/ uses it to show that the customer's retry after a restart replays the
same reference and the ledger holds the money once.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import FrozenSet

logger = logging.getLogger(__name__)

ENV_VAR = "BILLING_FAULT_CRASH_AFTER_COMMIT"
MONEY_OPERATIONS: FrozenSet[str] = frozenset(
    {"refund", "credit_note", "fee_reversal", "goodwill_credit", "payment_plan"})
CRASH_EXIT_CODE = 97


def _configured(raw: str) -> FrozenSet[str]:
    raw = raw.strip()
    if not raw or raw in ("0", "false", "no"):
        return frozenset()
    if raw in ("1", "true", "yes"):
        return MONEY_OPERATIONS
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


_CRASH_AFTER: FrozenSet[str] = _configured(os.environ.get(ENV_VAR, ""))
if _CRASH_AFTER:
    logger.warning("%s is set: this process exits after committing %s (fault tests only)",
                   ENV_VAR, ", ".join(sorted(_CRASH_AFTER)))


def after_commit(operation: str, reference: str) -> None:
    """Called by the billing core after ``operation`` committed (a no-op unless configured)."""
    if operation in _CRASH_AFTER:
        print(f"{ENV_VAR}: crashing after committing {operation} {reference}", file=sys.stderr, flush=True)
        os._exit(CRASH_EXIT_CODE)
