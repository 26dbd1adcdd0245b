"""Several money operations in one transaction (bot.billing.db.one_transaction): they commit together or
not at all; one that is refused is undone alone; crash points wait for the commit; replays work."""
from __future__ import annotations

import threading
from decimal import Decimal
from typing import List

import pytest

from bot.billing.db import after_commit, one_transaction
from bot.billing.errors import ExceedsCorrectable
from bot.billing.guards import Actor
from bot.billing.models import AuditEntry, Correction, Dispute, IdempotencyKey
from bot.billing.operations import grant_goodwill_credit, open_dispute, record_dispute_outcome, refund
from tests.billing.support import count

BOT = Actor.bot()


def case(db: str, key: str) -> str:
    """Maria's duplicate charge the way a conversation confirms it: dispute, refund, outcome."""
    dispute = open_dispute("INV-0142", reason="billed twice", actor=BOT, disputed_amount="49.00",
                           reason_code="duplicate_line", idempotency_key=f"{key}:dispute", database_url=db)
    made = refund("INV-0142", "49.00", actor=BOT, reason="billed twice", dispute_reference=dispute.reference,
                  idempotency_key=f"{key}:refund", database_url=db)
    record_dispute_outcome(dispute.reference, outcome="upheld", resolved_amount="49.00", actor=BOT,
                           idempotency_key=f"{key}:outcome", database_url=db)
    return made.reference


def test_the_operations_commit_together(db: str) -> None:
    with one_transaction(db):
        reference = case(db, "c1")
    assert count(db, Correction, Correction.reference == reference) == 1
    assert count(db, AuditEntry) == 3 and count(db, IdempotencyKey) == 3
    with one_transaction(db):  # the same conversation again: every step replays, nothing doubles
        assert case(db, "c1") == reference
    assert count(db, Correction) == 1 and count(db, AuditEntry) == 3 and count(db, Dispute) == 1


def test_a_failure_after_the_refund_leaves_nothing_half_done(db: str) -> None:
    with pytest.raises(RuntimeError):
        with one_transaction(db):
            case(db, "c2")
            raise RuntimeError("the process fails before the goodwill credit")
    assert count(db, Correction) == 0 and count(db, Dispute) == 0
    assert count(db, AuditEntry) == 0 and count(db, IdempotencyKey) == 0
    with one_transaction(db):  # the customer's retry does it all, once
        case(db, "c2")
    assert count(db, Correction) == 1 and count(db, Dispute) == 1


def test_a_refused_operation_is_undone_alone(db: str) -> None:
    with one_transaction(db):
        reference = case(db, "c3")
        with pytest.raises(ExceedsCorrectable):  # nothing left in error to refund
            refund("INV-0142", "49.00", actor=BOT, reason="again", idempotency_key="c3:refund-again",
                   database_url=db)
        goodwill = grant_goodwill_credit("INV-0142", actor=BOT, idempotency_key="c3:goodwill", database_url=db)
    assert count(db, Correction) == 2 and goodwill.record.amount == Decimal("5.00")
    assert count(db, IdempotencyKey, IdempotencyKey.key == "c3:refund-again") == 0
    assert count(db, Correction, Correction.reference == reference) == 1


def test_after_commit_waits_for_the_commit_and_never_runs_on_rollback(db: str) -> None:
    ran: List[str] = []
    after_commit(lambda: ran.append("alone"))  # outside: at once
    with one_transaction(db):
        after_commit(lambda: ran.append("inside"))
        case(db, "c4")
        assert ran == ["alone"]
    assert ran == ["alone", "inside"]
    with pytest.raises(RuntimeError):
        with one_transaction(db):
            after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("stop")
    assert ran == ["alone", "inside"]


def test_the_same_case_confirmed_twice_at_once_changes_money_once(db: str) -> None:
    """Two servers confirm the same conversation's case at the same moment: on PostgreSQL the second
    waits on the first's dispute key until it commits, then replays every step."""
    start = threading.Barrier(2)
    references: List[str] = []
    errors: List[BaseException] = []

    def confirm() -> None:
        try:
            start.wait()
            with one_transaction(db):
                references.append(case(db, "c5"))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(references) == 2 and references[0] == references[1]
    assert count(db, Correction) == 1 and count(db, Dispute) == 1 and count(db, AuditEntry) == 3
