"""Operations: what the ledger holds afterwards, idempotency, authority, limits, audit."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.billing.db import session_scope
from bot.billing.errors import (
    AuthorityExceeded,
    ExceedsCorrectable,
    IdempotencyConflict,
    InvalidRequest,
    InvalidState,
    NotConfirmedByLedger,
    PolicyViolation,
)
from bot.billing.lookup import get_balance, get_invoice, list_corrections, open_corrections
from bot.billing.models import (
    AuditEntry,
    Correction,
    Dispute,
    IdempotencyKey,
    Invoice,
    InvoiceLine,
    PaymentPlan,
    PaymentPlanInstallment,
    SeededError,
)
from bot.billing.operations import (
    Actor,
    create_payment_plan,
    grant_goodwill_credit,
    issue_credit_note,
    open_dispute,
    record_dispute_outcome,
    refund,
    reverse_fee,
)
from tests.billing.support import REFERENCE_PATTERN, SEED_DAY, assert_no_floats, count

D = Decimal
BOT = Actor.bot("rasa-bot")
AGENT = Actor.agent("agent-42")


def _audit(url: str, key: str) -> list:
    with session_scope(url) as s:
        return s.execute(select(AuditEntry).where(AuditEntry.idempotency_key == key)).scalars().all()


def test_refund_duplicate_charge_to_original_card(db: str) -> None:
    result = refund("inv 142", "49.00", actor=BOT, idempotency_key="c1:refund", reason="Plan billed twice",
                    today=SEED_DAY, database_url=db)
    assert re.fullmatch(REFERENCE_PATTERN, result.reference) and not result.replayed
    r = result.record
    assert (r.kind, r.status, r.amount, r.method, r.method_detail) == (
        "refund", "pending", D("49.00"), "card", "Visa ending 4242")
    assert r.expected_by == SEED_DAY + timedelta(days=7)
    [entry] = _audit(db, "c1:refund")
    assert (entry.actor_kind, entry.actor_id, entry.action, entry.reason, entry.reference, entry.amount) == (
        "bot", "rasa-bot", "refund", "Plan billed twice", result.reference, D("49.00"))
    assert (entry.balance_before, entry.balance_after) == (D("0.00"), D("0.00"))
    inv = get_invoice("INV-0142", database_url=db)
    assert inv.amount_paid == D("49.00") and inv.balance_due == D("0.00")
    assert [c.reference for c in open_corrections("ACC-1001", database_url=db)] == [result.reference]
    assert assert_no_floats(result) > 0


def test_same_key_replays_and_changes_money_once(db: str) -> None:
    first = refund("INV-0142", "49.00", actor=BOT, idempotency_key="k-same", reason="dup", database_url=db)
    again = refund("inv 142", "49", actor=BOT, idempotency_key="k-same", reason="dup", database_url=db)
    assert again.replayed and again.reference == first.reference and again.record == first.record
    assert count(db, Correction) == 1 and count(db, AuditEntry) == 1 and count(db, IdempotencyKey) == 1
    with pytest.raises(IdempotencyConflict):
        refund("INV-0142", "48.00", actor=BOT, idempotency_key="k-same", reason="dup", database_url=db)
    with pytest.raises(IdempotencyConflict):
        issue_credit_note("INV-0142", "49.00", actor=BOT, idempotency_key="k-same", reason="dup", database_url=db)


def test_refund_cannot_exceed_what_was_charged_in_error(db: str) -> None:
    with pytest.raises(ExceedsCorrectable):
        refund("INV-0142", "49.01", actor=BOT, idempotency_key="a", reason="dup", database_url=db)
    refund("INV-0142", "30.00", actor=BOT, idempotency_key="b", reason="dup", database_url=db)
    with pytest.raises(ExceedsCorrectable):  # only 19.00 left
        issue_credit_note("INV-0142", "20.00", actor=BOT, idempotency_key="c", reason="dup", database_url=db)
    issue_credit_note("INV-0142", "19.00", actor=BOT, idempotency_key="d", reason="dup", database_url=db)
    with pytest.raises(ExceedsCorrectable):
        refund("INV-0142", "0.01", actor=BOT, idempotency_key="e", reason="dup", database_url=db)
    assert sum(c.amount for c in list_corrections("ACC-1001", database_url=db)) == D("49.00")
    assert count(db, IdempotencyKey) == 2 and count(db, AuditEntry) == 2  # failed attempts left nothing


def test_bot_only_corrects_confirmed_errors(db: str) -> None:
    with pytest.raises(NotConfirmedByLedger):
        refund("INV-0610", "29.00", actor=BOT, idempotency_key="x1", reason="customer unhappy", database_url=db)
    with pytest.raises(NotConfirmedByLedger):
        issue_credit_note("INV-0141", "10.00", actor=BOT, idempotency_key="x2", reason="?", database_url=db)
    # an agent may refund a correct charge (e.g. a waiver), up to what was paid
    done = refund("INV-0610", "29.00", actor=AGENT, idempotency_key="x3", reason="waiver", database_url=db)
    assert done.record.amount == D("29.00")
    with pytest.raises(ExceedsCorrectable):
        refund("INV-0610", "0.01", actor=AGENT, idempotency_key="x4", reason="again", database_url=db)
    assert count(db, Correction) == 1


def test_authority_limit_bot_vs_agent(db: str, policy_file) -> None:
    with pytest.raises(AuthorityExceeded) as exc:  # Tom's $2,500.00 equipment: above the bot's $500.00
        issue_credit_note("INV-0455", "2500.00", actor=BOT, idempotency_key="t1", reason="equipment",
                          database_url=db)
    assert (exc.value.limit, exc.value.amount) == (D("500.00"), D("2500.00"))
    ok = issue_credit_note("INV-0455", "2500.00", actor=AGENT, idempotency_key="t2", reason="equipment upheld",
                           database_url=db)
    assert ok.record.amount == D("2500.00") and _audit(db, "t2")[0].actor_kind == "agent"
    policy_file(authority__bot__max_correction="40.00", authority__agent__max_correction="45.00")
    with pytest.raises(AuthorityExceeded):  # a confirmed $49.00 error, above a $40.00 bot limit
        refund("INV-0142", "49.00", actor=BOT, idempotency_key="m1", reason="dup", database_url=db)
    with pytest.raises(AuthorityExceeded):
        refund("INV-0142", "49.00", actor=AGENT, idempotency_key="m2", reason="dup", database_url=db)
    assert refund("INV-0142", "40.00", actor=BOT, idempotency_key="m3", reason="dup", database_url=db).record
    with pytest.raises(AuthorityExceeded):  # the limit counts everything corrected on the invoice
        refund("INV-0142", "9.00", actor=BOT, idempotency_key="m4", reason="dup", database_url=db)
    assert count(db, Correction) == 2


def test_refund_goes_to_a_payment_that_covers_it(db: str) -> None:
    with pytest.raises(ExceedsCorrectable):  # Tom paid nothing: nothing to refund
        refund("INV-0455", "49.00", actor=AGENT, idempotency_key="p1", reason="x", database_url=db)
    aisha = refund("INV-0501", "79.00", actor=BOT, idempotency_key="p2", reason="after cancellation",
                   database_url=db)
    assert (aisha.record.method, aisha.record.amount) == ("card", D("79.00"))
    with session_scope(db) as s:
        correction = s.execute(select(Correction)).scalar_one()
        assert correction.payment_id is not None and correction.invoice_id == s.execute(
            select(Invoice.id).where(Invoice.number == "INV-0501")).scalar_one()


def test_fee_reversal_for_james(db: str) -> None:
    before = get_balance("ACC-1002", database_url=db, today=SEED_DAY)
    assert before.total_owed == D("25.00")
    result = reverse_fee("INV-0207", actor=BOT, idempotency_key="f1", reason="paid on the due date",
                         database_url=db)
    assert (result.record.kind, result.record.status, result.record.amount) == ("fee_reversal", "completed",
                                                                                D("25.00"))
    assert get_balance("ACC-1002", database_url=db, today=SEED_DAY).total_owed == D("0.00")
    assert get_invoice("INV-0207", database_url=db).status == "paid"
    [entry] = _audit(db, "f1")
    assert (entry.balance_before, entry.balance_after) == (D("25.00"), D("0.00"))
    with pytest.raises(ExceedsCorrectable):
        reverse_fee("INV-0207", actor=BOT, idempotency_key="f2", reason="again", database_url=db)


def test_bot_cannot_reverse_a_legitimate_late_fee(db: str) -> None:
    with session_scope(db) as s:
        numbers = s.execute(select(Invoice.number).join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
                            .where(InvoiceLine.kind == "late_fee",
                                   ~Invoice.id.in_(select(SeededError.invoice_id)))).scalars().all()
        no_fee = s.execute(select(Invoice.number).where(Invoice.number == "INV-0610")).scalar_one()
    assert numbers, "the template should contain a legitimate late fee"
    with pytest.raises(NotConfirmedByLedger):
        reverse_fee(numbers[0], actor=BOT, idempotency_key="g1", reason="asked nicely", database_url=db)
    assert reverse_fee(numbers[0], actor=AGENT, idempotency_key="g2", reason="waived", database_url=db).record
    with pytest.raises(ExceedsCorrectable):
        reverse_fee(no_fee, actor=AGENT, idempotency_key="g3", reason="no fee", database_url=db)


def test_credit_note_shows_as_credit(db: str) -> None:
    result = issue_credit_note("INV-0501", "79.00", actor=BOT, idempotency_key="cn1", reason="after cancellation",
                               database_url=db)
    assert (result.record.kind, result.record.status) == ("credit_note", "pending")
    assert get_balance("ACC-1005", database_url=db, today=SEED_DAY).credit_available == D("79.00")


def test_goodwill_credit(db: str) -> None:
    maria = grant_goodwill_credit("INV-0142", actor=BOT, idempotency_key="gw1", today=SEED_DAY, database_url=db)
    assert (maria.record.amount, maria.record.is_goodwill) == (D("5.00"), True)
    with pytest.raises(PolicyViolation):  # once per invoice
        grant_goodwill_credit("INV-0142", actor=BOT, idempotency_key="gw2", today=SEED_DAY, database_url=db)
    with pytest.raises(PolicyViolation):  # no error on this invoice: we were not at fault
        grant_goodwill_credit("INV-0141", actor=BOT, idempotency_key="gw3", today=SEED_DAY, database_url=db)
    with pytest.raises(PolicyViolation):  # James: customer for 3 years
        grant_goodwill_credit("INV-0207", actor=BOT, idempotency_key="gw4", today=SEED_DAY, database_url=db)
    # goodwill is not an error correction: the full $49.00 can still be refunded
    assert refund("INV-0142", "49.00", actor=BOT, idempotency_key="gw5", reason="dup", database_url=db).record


def test_payment_plan_for_priya(db: str) -> None:
    result = create_payment_plan("ACC-1003", 3, actor=BOT, idempotency_key="pp1", today=SEED_DAY, database_url=db)
    plan = result.record
    assert plan.total_amount == D("1240.00") and plan.invoice_numbers == ("INV-0311", "INV-0388")
    assert [i.amount for i in plan.installments] == [D("413.33"), D("413.33"), D("413.34")]
    assert sum(i.amount for i in plan.installments) == D("1240.00")
    assert SEED_DAY < plan.installments[0].due_date <= SEED_DAY + timedelta(days=14)
    again = create_payment_plan("ACC-1003", 3, actor=BOT, idempotency_key="pp1", today=SEED_DAY, database_url=db)
    assert again.replayed and again.reference == result.reference
    assert count(db, PaymentPlan) == 1 and count(db, PaymentPlanInstallment) == 3
    with pytest.raises(InvalidState):  # one active plan per customer
        create_payment_plan("ACC-1003", 2, actor=BOT, idempotency_key="pp2", today=SEED_DAY, database_url=db)
    [entry] = _audit(db, "pp1")
    assert (entry.action, entry.amount) == ("payment_plan_created", D("1240.00"))


def test_payment_plan_policy_checks(db: str, policy_file) -> None:
    with pytest.raises(PolicyViolation):
        create_payment_plan("ACC-1003", 7, actor=BOT, idempotency_key="q1", database_url=db)
    with pytest.raises(PolicyViolation):  # Liam owes nothing
        create_payment_plan("ACC-1006", 2, actor=BOT, idempotency_key="q2", database_url=db)
    with pytest.raises(InvalidRequest):
        create_payment_plan("ACC-1003", 2, actor=BOT, idempotency_key="q3", today=SEED_DAY,
                            first_due=SEED_DAY + timedelta(days=15), database_url=db)
    policy_file(payment_plans__max_balance="1000.00")
    with pytest.raises(AuthorityExceeded):
        create_payment_plan("ACC-1003", 3, actor=BOT, idempotency_key="q4", database_url=db)
    assert create_payment_plan("ACC-1003", 3, actor=AGENT, idempotency_key="q5", database_url=db).record
    assert count(db, PaymentPlan) == 1


def test_dispute_lifecycle_for_tom(db: str) -> None:
    opened = open_dispute("INV-0455", reason="Never ordered the router", disputed_amount="2500.00", actor=BOT,
                          idempotency_key="d1", reason_code="equipment_charge", conversation_id="conv-9",
                          database_url=db)
    assert (opened.record.status, opened.record.disputed_amount) == ("open", D("2500.00"))
    with pytest.raises(AuthorityExceeded):
        record_dispute_outcome(opened.reference, outcome="upheld", resolved_amount="2500.00", actor=BOT,
                               idempotency_key="d2", database_url=db)
    decided = record_dispute_outcome(opened.reference, outcome="upheld", resolved_amount="2500.00", actor=AGENT,
                                     idempotency_key="d3", note="Router was never delivered", database_url=db)
    assert decided.reference == opened.reference
    assert (decided.record.status, decided.record.outcome, decided.record.resolved_amount) == (
        "resolved", "upheld", D("2500.00"))
    assert record_dispute_outcome(opened.reference, outcome="upheld", resolved_amount="2500.00", actor=AGENT,
                                  idempotency_key="d3", note="Router was never delivered", database_url=db).replayed
    with pytest.raises(InvalidState):
        record_dispute_outcome(opened.reference, outcome="rejected", actor=AGENT, idempotency_key="d4",
                               database_url=db)
    credit = issue_credit_note("INV-0455", "2500.00", actor=AGENT, idempotency_key="d5", reason="dispute upheld",
                               dispute_reference=opened.reference, database_url=db)
    assert credit.record.dispute_reference == opened.reference
    with session_scope(db) as s:
        assert s.execute(select(Dispute.outcome_note)).scalar_one() == "Router was never delivered"
    assert [e.action for e in _audit(db, "d1") + _audit(db, "d3")] == ["dispute_opened", "dispute_resolved"]


def test_bot_can_uphold_confirmed_errors_only(db: str) -> None:
    d = open_dispute("INV-0142", reason="charged twice", actor=BOT, idempotency_key="e1", database_url=db)
    assert d.record.disputed_amount == D("98.00")
    with pytest.raises(NotConfirmedByLedger):
        record_dispute_outcome(d.reference, outcome="upheld", resolved_amount="98.00", actor=BOT,
                               idempotency_key="e2", database_url=db)
    assert record_dispute_outcome(d.reference, outcome="partially_upheld", resolved_amount="49.00", actor=BOT,
                                  idempotency_key="e3", database_url=db).record.outcome == "partially_upheld"
    with pytest.raises(InvalidRequest):
        open_dispute("INV-0142", reason="x", disputed_amount="98.01", actor=BOT, idempotency_key="e4",
                     database_url=db)


def test_references_are_unique(db: str) -> None:
    refs = {refund("INV-0142", "1.00", actor=BOT, idempotency_key=f"u{i}", reason="dup", database_url=db).reference
            for i in range(20)}
    assert len(refs) == 20 and all(re.fullmatch(REFERENCE_PATTERN, r) for r in refs)


def test_money_inputs_are_validated(db: str) -> None:
    with pytest.raises(TypeError):
        refund("INV-0142", 49.0, actor=BOT, idempotency_key="v1", reason="dup", database_url=db)
    with pytest.raises(InvalidRequest):
        refund("INV-0142", "-5.00", actor=BOT, idempotency_key="v2", reason="dup", database_url=db)
    with pytest.raises(ValueError):
        refund("INV-0142", "1.005", actor=BOT, idempotency_key="v3", reason="dup", database_url=db)
    with pytest.raises(InvalidRequest):
        refund("INV-0142", "1.00", actor=BOT, idempotency_key="", reason="dup", database_url=db)
    with pytest.raises(InvalidRequest):
        Actor("customer", "maria")
    assert count(db, Correction) == 0


def test_list_invoices_batched_equals_each_invoice_looked_up_alone(db: str) -> None:
    """list_invoices loads lines, payments and corrections for all invoices in three queries; each
    invoice must come out exactly as get_invoice builds it alone (a refund and a credit note in the ledger)."""
    from bot.billing.lookup import get_invoice, list_invoices

    refund("INV-0142", "30.00", actor=BOT, idempotency_key="batch:refund", reason="dup", database_url=db)
    issue_credit_note("INV-0142", "19.00", actor=BOT, idempotency_key="batch:credit", reason="dup", database_url=db)
    for account in ("ACC-1001", "ACC-1002", "ACC-1003"):
        listed = list_invoices(account, limit=100, database_url=db, today=SEED_DAY)
        assert listed, account
        assert listed == [get_invoice(i.number, database_url=db, today=SEED_DAY) for i in listed]
    changed = [i for i in list_invoices("ACC-1001", limit=100, database_url=db, today=SEED_DAY) if i.number == "INV-0142"]
    assert changed and changed[0].amount_paid < changed[0].total  # the refund shows in the listed invoice
