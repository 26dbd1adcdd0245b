"""Money-changing operations: refunds, credit notes, fee reversals, goodwill credits, payment
plans, disputes and their outcomes.

Every operation

* runs in ONE transaction (:func:`bot.billing.db.unit_of_work`), or in a savepoint of the caller's
  when called inside :func:`bot.billing.db.one_transaction` (several operations, one commit),
* is idempotent by ``idempotency_key`` (same key again, or concurrently: money changes once and the
  same reference comes back with ``replayed=True``; see :mod:`bot.billing.idempotency`),
* writes one audit-log row (actor kind + id, action, reason, key, amount, reference),
* enforces the actor's authority (:class:`~bot.billing.errors.AuthorityExceeded`), and for
  corrections refuses more than was charged in error / is left after earlier corrections,
* returns an :class:`~bot.billing.dto.OperationResult` whose ``reference`` is ``REF-`` + 8
  random uppercase letters/digits.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.audit import audit
from bot.billing.convert import correction_by_reference, dispute_by_reference, payment_plan_by_reference
from bot.billing.dates import today_utc, utcnow, years_between
from bot.billing.dto import CorrectionDTO, DisputeDTO, OperationResult, PaymentPlanDTO
from bot.billing.errors import (
    AuthorityExceeded,
    ExceedsCorrectable,
    InvalidRequest,
    InvalidState,
    NotConfirmedByLedger,
    NotFound,
    PolicyViolation,
)
from bot.billing.guards import (
    Actor,
    InvoiceState,
    check_authority,
    check_correction,
    corrected_so_far,
    dispute_for,
    lock_invoice,
    positive_amount,
    refresh_status,
)
from bot.billing.identifiers import normalise_account_number, normalise_invoice_number
from bot.billing.idempotency import run_idempotent
from bot.billing.kinds import (
    AuditAction,
    CorrectionKind,
    CorrectionStatus,
    DisputeOutcome,
    DisputeStatus,
    FindingKind,
    InstallmentStatus,
    LineKind,
    PaymentPlanStatus,
)
from bot.billing.ledger import invoice_money, refunded_by_payment
from bot.billing.models import (
    Correction,
    Customer,
    Dispute,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentPlan,
    PaymentPlanInstallment,
    PaymentPlanInvoice,
)
from bot.billing.money import ZERO, MoneyInput, format_usd, to_money
from bot.billing.policy import goodwill_credit, load_policy, payment_plan_schedule, plan_allowed, plan_balance_limit

__all__ = [
    "Actor", "create_payment_plan", "grant_goodwill_credit", "issue_credit_note", "open_dispute",
    "record_dispute_outcome", "refund", "reverse_fee",
]


def _add_correction(session: Session, state: InvoiceState, actor: Actor, *, reference: str, kind: str,
                    amount: Decimal, reason: str, key: str, action: str, dispute: Optional[Dispute] = None,
                    payment: Optional[Payment] = None, status: str = CorrectionStatus.PENDING.value,
                    expected_by: Optional[date] = None, goodwill: bool = False) -> Correction:
    before = state.money.balance_due
    now = utcnow()
    correction = Correction(
        reference=reference, kind=kind, status=status, customer_id=state.customer.id, invoice_id=state.invoice.id,
        dispute_id=dispute.id if dispute else None, payment_id=payment.id if payment else None,
        method=payment.method if payment else None, method_detail=payment.method_detail if payment else None,
        amount=amount, is_goodwill=goodwill, reason=reason, actor_kind=actor.kind, actor_id=actor.id,
        expected_by=expected_by, created_at=now,
        completed_at=now if status == CorrectionStatus.COMPLETED.value else None)
    session.add(correction)
    after = refresh_status(session, state.invoice)
    audit(session, actor_kind=actor.kind, actor_id=actor.id, action=action, reason=reason, reference=reference,
          customer_id=state.customer.id, invoice_id=state.invoice.id, amount=amount, idempotency_key=key,
          balance_before=before, balance_after=after,
          details={"invoice_number": state.invoice.number, "kind": kind,
                   "dispute": dispute.reference if dispute else None,
                   "findings": [f.kind for f in state.findings]})
    return correction


def _params(actor: Actor, **params: object) -> dict:
    """The money-relevant request parameters, normalised, for the idempotency fingerprint."""
    if isinstance(params.get("invoice"), str):
        params["invoice"] = normalise_invoice_number(params["invoice"]) or params["invoice"]
    if isinstance(params.get("account"), str):
        params["account"] = normalise_account_number(params["account"]) or params["account"]
    if isinstance(params.get("dispute"), str):
        params["dispute"] = params["dispute"].strip().upper()
    return {"actor_kind": actor.kind, **{k: str(v) if v is not None else None for k, v in params.items()}}


def refund(invoice_number: str, amount: MoneyInput, *, actor: Actor, idempotency_key: str, reason: str,
           dispute_reference: Optional[str] = None, today: Optional[date] = None,
           database_url: Optional[str] = None) -> OperationResult[CorrectionDTO]:
    """Refund ``amount`` of the invoice to the original payment method (the latest payment that
    can cover it). Status ``pending`` until settled; ``expected_by`` per policy."""
    value = positive_amount(amount)

    def perform(session: Session, reference: str) -> None:
        state = lock_invoice(session, invoice_number)
        dispute = dispute_for(session, dispute_reference, state.invoice)
        check_correction(session, state, actor, value)
        payments = session.execute(select(Payment).where(Payment.invoice_id == state.invoice.id)
                                   .order_by(Payment.received_at.desc(), Payment.id.desc())).scalars().all()
        refunded = refunded_by_payment(session, [p.id for p in payments])
        payment = next((p for p in payments if p.amount - refunded[p.id] >= value), None)
        if payment is None:
            left = sum((p.amount - refunded[p.id] for p in payments), ZERO)
            raise ExceedsCorrectable(value, left, f"{state.invoice.number} has no payment with "
                                                  f"{format_usd(value)} left to refund.")
        settle = (today or today_utc()) + timedelta(days=load_policy().refund_settlement_days)
        _add_correction(session, state, actor, reference=reference, kind=CorrectionKind.REFUND.value, amount=value,
                        reason=reason, key=idempotency_key, action=AuditAction.REFUND.value, dispute=dispute,
                        payment=payment, expected_by=settle)

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="refund",
                          params=_params(actor, invoice=invoice_number, amount=value, dispute=dispute_reference),
                          perform=perform, load=correction_by_reference)


def issue_credit_note(invoice_number: str, amount: MoneyInput, *, actor: Actor, idempotency_key: str, reason: str,
                      dispute_reference: Optional[str] = None,
                      database_url: Optional[str] = None) -> OperationResult[CorrectionDTO]:
    """Credit ``amount`` for an error on the invoice, to be deducted from the next invoice."""
    value = positive_amount(amount)

    def perform(session: Session, reference: str) -> None:
        state = lock_invoice(session, invoice_number)
        dispute = dispute_for(session, dispute_reference, state.invoice)
        check_correction(session, state, actor, value)
        _add_correction(session, state, actor, reference=reference, kind=CorrectionKind.CREDIT_NOTE.value,
                        amount=value, reason=reason, key=idempotency_key, action=AuditAction.CREDIT_NOTE.value,
                        dispute=dispute)

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="credit_note",
                          params=_params(actor, invoice=invoice_number, amount=value, dispute=dispute_reference),
                          perform=perform, load=correction_by_reference)


def reverse_fee(invoice_number: str, *, actor: Actor, idempotency_key: str, reason: str,
                amount: Optional[MoneyInput] = None, dispute_reference: Optional[str] = None,
                database_url: Optional[str] = None) -> OperationResult[CorrectionDTO]:
    """Remove late fees from the invoice (default: all fees not yet reversed). The bot may only
    reverse a fee the ledger confirms was charged despite timely payment."""
    wanted = positive_amount(amount) if amount is not None else None

    def perform(session: Session, reference: str) -> None:
        state = lock_invoice(session, invoice_number)
        dispute = dispute_for(session, dispute_reference, state.invoice)
        fees = sum((line.amount for line in session.execute(select(InvoiceLine).where(
            InvoiceLine.invoice_id == state.invoice.id, InvoiceLine.kind == LineKind.LATE_FEE.value)).scalars()), ZERO)
        left = fees - state.money.fee_reversed
        if left <= ZERO:
            raise ExceedsCorrectable(wanted or ZERO, ZERO, f"{state.invoice.number} has no late fee left to reverse.")
        value = wanted if wanted is not None else left
        if value > left:
            raise ExceedsCorrectable(value, left)
        if actor.is_bot and not any(f.kind == FindingKind.LATE_FEE_DESPITE_PAYMENT.value for f in state.findings):
            check_authority(actor, value, corrected_so_far(session, state.invoice.id))
            raise NotConfirmedByLedger(f"The late fee on {state.invoice.number} is not confirmed as an error.")
        check_correction(session, state, actor, value)
        _add_correction(session, state, actor, reference=reference, kind=CorrectionKind.FEE_REVERSAL.value,
                        amount=value, reason=reason, key=idempotency_key, action=AuditAction.FEE_REVERSAL.value,
                        dispute=dispute, status=CorrectionStatus.COMPLETED.value)

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="fee_reversal",
                          params=_params(actor, invoice=invoice_number, amount=wanted, dispute=dispute_reference),
                          perform=perform, load=correction_by_reference)


def grant_goodwill_credit(invoice_number: str, *, actor: Actor, idempotency_key: str,
                          reason: str = "Goodwill credit for a long-standing customer",
                          today: Optional[date] = None,
                          database_url: Optional[str] = None) -> OperationResult[CorrectionDTO]:
    """The policy's goodwill credit note (e.g. $5.00), once per invoice, when the customer's tenure
    qualifies and the ledger confirms we were at fault on this invoice."""

    def perform(session: Session, reference: str) -> None:
        state = lock_invoice(session, invoice_number)
        tenure = years_between(state.customer.customer_since, today or today_utc())
        value = goodwill_credit(tenure, we_were_at_fault=state.confirmed > ZERO)
        if value is None:
            raise PolicyViolation(f"{state.customer.account_number} does not qualify for a goodwill credit "
                                  f"on {state.invoice.number}.")
        given = session.execute(select(Correction.id).where(Correction.invoice_id == state.invoice.id,
                                                            Correction.is_goodwill.is_(True))).first()
        if given is not None:
            raise PolicyViolation(f"A goodwill credit was already given for {state.invoice.number}.")
        check_authority(actor, value, corrected_so_far(session, state.invoice.id))
        _add_correction(session, state, actor, reference=reference, kind=CorrectionKind.CREDIT_NOTE.value,
                        amount=value, reason=reason, key=idempotency_key, action=AuditAction.GOODWILL_CREDIT.value,
                        goodwill=True)

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="goodwill_credit",
                          params=_params(actor, invoice=invoice_number), perform=perform,
                          load=correction_by_reference)


def create_payment_plan(account_number: str, installments: int, *, actor: Actor, idempotency_key: str,
                        first_due: Optional[date] = None, today: Optional[date] = None,
                        reason: str = "Payment plan agreed with the customer",
                        database_url: Optional[str] = None) -> OperationResult[PaymentPlanDTO]:
    """Spread everything the customer owes over ``installments`` monthly payments (policy checked;
    balances above the actor's limit raise AuthorityExceeded)."""

    def perform(session: Session, reference: str) -> None:
        account = normalise_account_number(account_number)
        customer = session.execute(select(Customer).where(Customer.account_number == account).with_for_update()
                                   ).scalar_one_or_none() if account else None
        if customer is None:
            raise NotFound(f"There is no account {account_number!r}.")
        active = session.execute(select(PaymentPlan.reference).where(
            PaymentPlan.customer_id == customer.id, PaymentPlan.status == PaymentPlanStatus.ACTIVE.value)).first()
        if active is not None:
            raise InvalidState(f"{customer.account_number} already has an active payment plan ({active[0]}).")
        invoices = session.execute(select(Invoice).where(Invoice.customer_id == customer.id)).scalars().all()
        money = invoice_money(session, {inv.id: inv.total for inv in invoices})
        owed = [inv for inv in invoices if money[inv.id].balance_due > ZERO]
        balance = sum((money[inv.id].balance_due for inv in owed), ZERO)
        decision = plan_allowed(balance, installments, actor_kind=actor.kind)
        limit = plan_balance_limit(actor.kind)
        if balance > limit:
            raise AuthorityExceeded(actor.kind, balance, limit, decision.reason)
        if not decision:
            raise PolicyViolation(decision.reason)
        schedule = payment_plan_schedule(balance, installments, today=today, first_due=first_due)
        plan = PaymentPlan(reference=reference, customer_id=customer.id, total_amount=balance,
                           installments_count=schedule.count, status=PaymentPlanStatus.ACTIVE.value,
                           first_due_date=schedule.first_due_date, actor_kind=actor.kind, actor_id=actor.id,
                           created_at=utcnow())
        session.add(plan)
        session.flush()
        session.add_all([PaymentPlanInstallment(plan_id=plan.id, sequence=i.sequence, due_date=i.due_date,
                                                amount=i.amount, status=InstallmentStatus.SCHEDULED.value)
                         for i in schedule.installments])
        session.add_all([PaymentPlanInvoice(plan_id=plan.id, invoice_id=inv.id) for inv in owed])
        audit(session, actor_kind=actor.kind, actor_id=actor.id, action=AuditAction.PAYMENT_PLAN_CREATED.value,
              reason=reason, reference=reference, customer_id=customer.id, amount=balance,
              idempotency_key=idempotency_key, balance_before=balance, balance_after=balance,
              details={"installments": [[i.due_date.isoformat(), str(i.amount)] for i in schedule.installments],
                       "invoices": sorted(inv.number for inv in owed)})

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="payment_plan",
                          params=_params(actor, account=account_number, installments=installments,
                                         first_due=first_due),
                          perform=perform, load=payment_plan_by_reference)


def open_dispute(invoice_number: str, *, reason: str, actor: Actor, idempotency_key: str,
                 disputed_amount: Optional[MoneyInput] = None, reason_code: str = "other",
                 conversation_id: Optional[str] = None,
                 database_url: Optional[str] = None) -> OperationResult[DisputeDTO]:
    """Open a dispute on (part of) an invoice; ``disputed_amount`` defaults to the invoice total."""
    wanted = positive_amount(disputed_amount) if disputed_amount is not None else None

    def perform(session: Session, reference: str) -> None:
        state = lock_invoice(session, invoice_number)
        value = wanted if wanted is not None else state.invoice.total
        if value > state.invoice.total:
            raise InvalidRequest(f"{format_usd(value)} is more than {state.invoice.number}'s total "
                                 f"of {format_usd(state.invoice.total)}.")
        session.add(Dispute(reference=reference, customer_id=state.customer.id, invoice_id=state.invoice.id,
                            reason_code=reason_code, reason=reason, disputed_amount=value,
                            status=DisputeStatus.OPEN.value, opened_by_kind=actor.kind, opened_by_id=actor.id,
                            conversation_id=conversation_id, created_at=utcnow()))
        audit(session, actor_kind=actor.kind, actor_id=actor.id, action=AuditAction.DISPUTE_OPENED.value,
              reason=reason, reference=reference, customer_id=state.customer.id, invoice_id=state.invoice.id,
              amount=value, idempotency_key=idempotency_key,
              details={"invoice_number": state.invoice.number, "reason_code": reason_code})

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="open_dispute",
                          params=_params(actor, invoice=invoice_number, amount=wanted, reason_code=reason_code),
                          perform=perform, load=dispute_by_reference)


def record_dispute_outcome(dispute_reference: str, *, outcome: str, actor: Actor, idempotency_key: str,
                           resolved_amount: MoneyInput = ZERO, note: str = "",
                           database_url: Optional[str] = None) -> OperationResult[DisputeDTO]:
    """Decide a dispute: ``upheld``/``partially_upheld`` (with the amount found in the customer's
    favour) or ``rejected`` (amount 0). Money is moved separately (refund/credit note with
    ``dispute_reference``). The bot may only uphold what the ledger confirms, within its authority."""
    if outcome not in {o.value for o in DisputeOutcome}:
        raise InvalidRequest(f"Unknown dispute outcome {outcome!r}.")
    value = to_money(resolved_amount)

    def perform(session: Session, _reference: str) -> str:
        dispute = session.execute(select(Dispute).where(Dispute.reference == dispute_reference.strip().upper())
                                  .with_for_update()).scalar_one_or_none()
        if dispute is None:
            raise NotFound(f"There is no dispute {dispute_reference!r}.")
        if dispute.status != DisputeStatus.OPEN.value:
            raise InvalidState(f"Dispute {dispute.reference} is already {dispute.status} ({dispute.outcome}).")
        if (outcome == DisputeOutcome.REJECTED.value) != (value == ZERO) or value < ZERO:
            raise InvalidRequest("A rejected dispute resolves 0; an upheld one a positive amount.")
        if value > dispute.disputed_amount:
            raise InvalidRequest("The resolved amount cannot exceed the disputed amount.")
        invoice = session.get(Invoice, dispute.invoice_id)
        if value > ZERO:
            check_authority(actor, value, ZERO)
            state = lock_invoice(session, invoice.number)
            if actor.is_bot and load_policy().authority.bot_requires_ledger_confirmation and value > state.confirmed:
                raise NotConfirmedByLedger(f"The ledger confirms only {format_usd(state.confirmed)} in error on "
                                           f"{invoice.number}; an agent has to decide.")
        dispute.status, dispute.outcome, dispute.resolved_amount = DisputeStatus.RESOLVED.value, outcome, value
        dispute.outcome_note, dispute.resolved_at = note or None, utcnow()
        dispute.resolved_by_kind, dispute.resolved_by_id = actor.kind, actor.id
        audit(session, actor_kind=actor.kind, actor_id=actor.id, action=AuditAction.DISPUTE_RESOLVED.value,
              reason=note or outcome, reference=dispute.reference, customer_id=dispute.customer_id,
              invoice_id=dispute.invoice_id, amount=value, idempotency_key=idempotency_key,
              details={"outcome": outcome, "invoice_number": invoice.number})
        return dispute.reference

    return run_idempotent(database_url=database_url, key=idempotency_key, operation="dispute_outcome",
                          params=_params(actor, dispute=dispute_reference, outcome=outcome, amount=value),
                          perform=perform, load=dispute_by_reference)
