"""Concurrent duplicate operations change money once (threads and processes, both backends)."""
from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Callable, List

import pytest
from sqlalchemy import select

from bot.billing.db import session_scope
from bot.billing.errors import BillingError
from bot.billing.models import AuditEntry, Correction, IdempotencyKey, PaymentPlan
from bot.billing.operations import Actor, create_payment_plan, open_dispute, refund, reverse_fee
from tests.billing.support import count
from tests.billing.workers import refund_in_process

THREADS = 8


def _race(fn: Callable[[int], object], n: int = THREADS) -> List[object]:
    barrier = threading.Barrier(n)

    def run(i: int) -> object:
        barrier.wait(timeout=30)
        try:
            return fn(i)
        except BillingError as exc:
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def test_threads_same_key_refund_once(db: str) -> None:
    results = _race(lambda i: refund("INV-0142", "49.00", actor=Actor.bot(f"worker-{i}"), idempotency_key="same",
                                     reason="dup", database_url=db))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.reference for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * (THREADS - 1)
    assert count(db, Correction) == 1 and count(db, IdempotencyKey) == 1
    assert count(db, AuditEntry, AuditEntry.idempotency_key == "same") == 1
    with session_scope(db) as s:
        assert s.execute(select(Correction.amount)).scalar_one() == Decimal("49.00")


def test_threads_different_keys_cannot_over_refund(db: str) -> None:
    results = _race(lambda i: refund("INV-0142", "49.00", actor=Actor.bot(), idempotency_key=f"k{i}",
                                     reason="dup", database_url=db))
    ok = [r for r in results if not isinstance(r, Exception)]
    assert len(ok) == 1, results
    assert Counter(type(r).__name__ for r in results if isinstance(r, Exception)) == {
        "ExceedsCorrectable": THREADS - 1}
    assert count(db, Correction) == 1 and count(db, AuditEntry) == 1


def test_threads_same_key_other_operations(db: str) -> None:
    fees = _race(lambda i: reverse_fee("INV-0207", actor=Actor.bot(), idempotency_key="fee", reason="on time",
                                       database_url=db))
    plans = _race(lambda i: create_payment_plan("ACC-1003", 4, actor=Actor.bot(), idempotency_key="plan",
                                                database_url=db))
    disputes = _race(lambda i: open_dispute("INV-0455", reason="equipment", actor=Actor.bot(),
                                            idempotency_key="disp", database_url=db))
    for results in (fees, plans, disputes):
        assert all(not isinstance(r, Exception) for r in results), results
        assert len({r.reference for r in results}) == 1 and sum(not r.replayed for r in results) == 1
    assert count(db, Correction) == 1 and count(db, PaymentPlan) == 1 and count(db, AuditEntry) == 3


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_processes_same_key_refund_once(db: str, start_method: str) -> None:
    # fork: children inherit this process's engine cache (keyed by pid, so they open their own
    # connections); spawn: children start from scratch.
    ctx = multiprocessing.get_context(start_method)
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=refund_in_process, args=(db, "proc-key", "49.00", barrier, results))
             for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs)
    assert len({ref for ref, _ in outcomes}) == 1 and outcomes[0][0].startswith("REF-"), outcomes
    assert sorted(replayed for _, replayed in outcomes) == [False] + [True] * (n - 1)
    assert count(db, Correction) == 1 and count(db, AuditEntry) == 1 and count(db, IdempotencyKey) == 1
