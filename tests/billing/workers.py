"""Functions run in child processes by the concurrency tests (importable for ``spawn``)."""
from __future__ import annotations

from typing import Any


def refund_in_process(url: str, key: str, amount: str, barrier: Any, results: Any) -> None:
    """Wait for the others, then refund; report (reference, replayed) or the error's class name."""
    from bot.billing.errors import BillingError
    from bot.billing.operations import Actor, refund

    barrier.wait(timeout=60)
    try:
        r = refund("INV-0142", amount, actor=Actor.bot("proc"), idempotency_key=key, reason="dup", database_url=url)
        results.put((r.reference, r.replayed))
    except BillingError as exc:
        results.put(("error", type(exc).__name__))
    except Exception as exc:  # surfaced to the test as a failure
        results.put(("crash", repr(exc)))
