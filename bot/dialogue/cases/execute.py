"""Run the offer the customer chose, exactly once, and write down what was agreed.

Idempotency keys derive from the conversation id and the offer id (:func:`idempotency_key`), so a
second "yes" or a retried message replays the billing core's stored result (same reference,
``replayed=True``) and the summary says it was already done. A correction is recorded as a
dispute (opened, corrected against it, outcome ``upheld``) so the dispute history is complete;
every step has its own derived key, so a retry after a crash finishes the missing steps.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from typing import Any, Dict, Optional, Tuple

from bot.billing import lookup, operations
from bot.billing.dates import human_date
from bot.billing.db import one_transaction
from bot.billing.dto import OperationResult
from bot.billing.errors import (
    AuthorityExceeded,
    BillingError,
    ExceedsCorrectable,
    InvalidRequest,
    InvalidState,
    NotConfirmedByLedger,
    PolicyViolation,
)
from bot.billing.guards import Actor
from bot.billing.interactions import log_interaction
from bot.billing.kinds import DisputeOutcome, PaymentPlanStatus
from bot.billing.money import ZERO, format_usd
from bot.dialogue.cases import wording
from bot.dialogue.cases.followup import correction_line
from bot.dialogue.cases.model import Decision, ExecutionResult, Offer, OfferKind

MAX_KEY = 200
REVIEW_REASON_CODE = "customer_review"
UNCONFIRMED_REASON_CODE = "unconfirmed_charge"


def idempotency_key(conversation_id: str, offer_id: str, step: str = "") -> str:
    """``case:<conversation>:<offer>[:<step>]`` (the conversation id is hashed if it is very long)."""
    conversation = conversation_id.strip()
    key = f"case:{conversation}:{offer_id}" + (f":{step}" if step else "")
    if len(key) > MAX_KEY:
        digest = hashlib.sha256(conversation.encode("utf-8")).hexdigest()
        key = f"case:{digest}:{offer_id}" + (f":{step}" if step else "")
    return key


def _did(offer: Offer) -> str:
    """What was done, as a past participle clause ("refunded $49.00 to your Visa ending 4242 ...")."""
    amount = format_usd(offer.amount)
    if offer.kind == OfferKind.REFUND:
        return f"issued a refund of {amount} to {offer.destination} for {offer.charge} on {offer.invoice_number}"
    if offer.kind == OfferKind.CREDIT_NOTE:
        return f"put a credit of {amount} on your account for {offer.charge} on {offer.invoice_number}"
    if offer.kind == OfferKind.FEE_REVERSAL:
        return f"removed the {amount} late fee from {offer.invoice_number}"
    return (f"set up a payment plan for {amount} ({offer.charge}): "
            f"{wording.plan_dates(offer.installments)}")


def _next_step(offer: Offer, result: OperationResult, database_url: Optional[str]) -> str:
    ref = result.reference
    ask = f"You can ask me about {ref} any time."
    if offer.kind == OfferKind.REFUND:
        when, where = result.record.expected_by, offer.destination or "you"
        return (f"The refund should reach {where} by {human_date(when)}. {ask}"
                if when else f"The refund is on its way to {where}. {ask}")
    if offer.kind == OfferKind.CREDIT_NOTE:
        return f"You'll see the {format_usd(offer.amount)} taken off your next bill. {ask}"
    if offer.kind == OfferKind.FEE_REVERSAL:
        invoice = lookup.get_invoice(offer.invoice_number, database_url=database_url)
        if invoice is not None and invoice.balance_due > ZERO:
            return f"The rest of {invoice.number}, {format_usd(invoice.balance_due)}, is still due. {ask}"
        return f"There's nothing more to pay on {offer.invoice_number}. {ask}"
    first = result.record.installments[0]
    return f"Your first payment of {format_usd(first.amount)} is due {human_date(first.due_date)}. {ask}"


def _summary(offer: Offer, result: OperationResult, goodwill: Optional[Decimal]) -> str:
    extra = f", and added a {format_usd(goodwill)} thank-you credit to your next bill" if goodwill else ""
    if result.replayed:
        when = human_date(result.record.created_at.date())
        return (f"That's already done, so nothing has changed: on {when} I {_did(offer)}{extra}. "
                f"Your reference is {result.reference}.")
    return f"Done. I've {_did(offer)}{extra}. Your reference is {result.reference}."


def _correct(offer: Offer, conversation_id: str, actor: Actor,
             database_url: Optional[str]) -> Tuple[OperationResult, str, Optional[OperationResult]]:
    """Open (or replay) the dispute, make the correction against it, record the outcome, add goodwill.

    All in one transaction (``one_transaction``): one commit for the four, and the refund, its
    outcome and the goodwill credit are made together or not at all. The dispute is kept when the
    correction itself is refused (the error is raised once it is committed): a person takes it from
    there.
    """
    number, kind = offer.invoice_number, offer.finding_kind or "other"
    refused: Optional[BillingError] = None
    with one_transaction(database_url):
        dispute = operations.open_dispute(
            number, reason=offer.reason or offer.summary, actor=actor, disputed_amount=offer.amount,
            reason_code=kind, conversation_id=conversation_id[:100], database_url=database_url,
            idempotency_key=idempotency_key(conversation_id, f"dispute:{number}:{kind}"))
        ref = dispute.reference
        try:
            result = _correction(offer, ref, conversation_id, actor, database_url)
        except BillingError as error:
            refused = error
        else:
            operations.record_dispute_outcome(
                ref, outcome=DisputeOutcome.UPHELD.value, resolved_amount=offer.amount, actor=actor,
                note=f"{offer.kind} {result.reference}: {offer.charge} on {number}", database_url=database_url,
                idempotency_key=idempotency_key(conversation_id, f"outcome:{ref}"))
            goodwill = _goodwill(offer, conversation_id, actor, database_url)
    if refused is not None:
        raise refused
    return result, ref, goodwill


def _correction(offer: Offer, dispute_reference: str, conversation_id: str, actor: Actor,
                database_url: Optional[str]) -> OperationResult:
    """The refund, credit note or fee reversal the offer names, against the dispute."""
    common: Dict[str, Any] = dict(actor=actor, reason=offer.params.get("reason") or offer.reason,
                                  dispute_reference=dispute_reference, database_url=database_url,
                                  idempotency_key=idempotency_key(conversation_id, offer.id))
    if offer.kind == OfferKind.REFUND:
        return operations.refund(offer.invoice_number, offer.amount, **common)
    if offer.kind == OfferKind.CREDIT_NOTE:
        return operations.issue_credit_note(offer.invoice_number, offer.amount, **common)
    return operations.reverse_fee(offer.invoice_number, amount=offer.amount, **common)


def _goodwill(offer: Offer, conversation_id: str, actor: Actor,
              database_url: Optional[str]) -> Optional[OperationResult]:
    """The offer's goodwill credit, if it has one and it can still be given."""
    if offer.goodwill_amount is None:
        return None
    try:
        return operations.grant_goodwill_credit(
            offer.invoice_number, actor=actor, database_url=database_url,
            idempotency_key=idempotency_key(conversation_id, f"goodwill:{offer.invoice_number}"))
    except (PolicyViolation, AuthorityExceeded):
        return None  # already given on this invoice, or no longer within authority


def _plan(offer: Offer, conversation_id: str, actor: Actor, database_url: Optional[str]) -> OperationResult:
    account = offer.account_number
    has_plan = any(p.status == PaymentPlanStatus.ACTIVE.value
                   for p in lookup.list_payment_plans(account, database_url=database_url))
    balance = lookup.get_balance(account, database_url=database_url)
    if not has_plan and (balance is None or balance.total_owed != offer.amount):
        raise InvalidRequest("The balance has changed since the plan was offered.")
    first_due = offer.installments[0].due_date if offer.installments else None
    return operations.create_payment_plan(
        account, int(offer.params["installments"]), first_due=first_due, actor=actor, database_url=database_url,
        idempotency_key=idempotency_key(conversation_id, offer.id))


def _failure(offer: Offer, error: BillingError, database_url: Optional[str]) -> ExecutionResult:
    handoff: Optional[str] = "other"
    nothing = "so I haven't changed anything"
    if isinstance(error, AuthorityExceeded):
        handoff, text = "authority", f"This needs a billing specialist's approval, {nothing}. I'll pass it to them."
    elif isinstance(error, NotConfirmedByLedger):
        handoff = "not_confirmed"
        text = f"I can't confirm this from the billing records, {nothing}. I'll pass it to a billing specialist."
    elif isinstance(error, ExceedsCorrectable):
        done = [correction_line(c) for c in lookup.list_corrections(offer.account_number, database_url=database_url)
                if c.invoice_number == offer.invoice_number and not c.is_goodwill]
        handoff, text = None, " ".join([f"This has already been put right, {nothing} again.", *done])
    elif isinstance(error, InvalidState) and offer.kind == OfferKind.PAYMENT_PLAN:
        handoff, text = None, f"You already have a payment plan in place, {nothing}."
    elif isinstance(error, InvalidRequest) and offer.kind == OfferKind.PAYMENT_PLAN:
        handoff = None
        text = f"Things have moved on since I offered that plan, {nothing}. Let me work out fresh options."
    else:
        text = f"Something stopped me from doing that, {nothing}. I'll pass it to a billing specialist."
    return ExecutionResult(ok=False, offer_id=offer.id, reference=None, replayed=False, summary=text, next_step="",
                           handoff_reason=handoff)


def _log(result: ExecutionResult, offer: Offer, conversation_id: str, actor: Actor,
         database_url: Optional[str]) -> ExecutionResult:
    details = {"kind": "case_outcome", "offer_id": offer.id, "offer_kind": offer.kind, "ok": result.ok,
               "reference": result.reference, "replayed": result.replayed, "amount": str(offer.amount),
               "dispute_reference": result.dispute_reference, "goodwill_reference": result.goodwill_reference,
               "handoff_reason": result.handoff_reason}
    row = log_interaction(conversation_id=conversation_id[:100], actor=actor.kind, actor_id=actor.id,
                          text=result.text, account_number=offer.account_number, details=details,
                          database_url=database_url)
    return replace(result, interaction_id=row)


def open_review(decision_or_offer: Any, *, conversation_id: str, actor: Actor = Actor.bot(),
                database_url: Optional[str] = None) -> Optional[str]:
    """Open (idempotently) a dispute for a case a person will review - a handoff decision on an
    invoice, or a human-review offer - and return its reference for the handoff context."""
    if isinstance(decision_or_offer, Decision):
        invoice, ctx = decision_or_offer.case.invoice, decision_or_offer.handoff_context
        if invoice is None or not decision_or_offer.handoff_reason:
            return None
        amount = ctx.get("amount") or str(invoice.total)
        number, reason, code = invoice.number, decision_or_offer.handoff_summary or "", UNCONFIRMED_REASON_CODE
        if decision_or_offer.case.findings:
            code = decision_or_offer.case.findings[0].kind
        step = f"review:{number}"
    else:
        number, amount = decision_or_offer.invoice_number, None
        reason, code, step = "Customer asked for a human review of the bill.", REVIEW_REASON_CODE, decision_or_offer.id
        if number is None:
            return None
    result = operations.open_dispute(number, reason=reason, actor=actor, disputed_amount=amount, reason_code=code,
                                     conversation_id=conversation_id[:100], database_url=database_url,
                                     idempotency_key=idempotency_key(conversation_id, f"dispute:{step}"))
    return result.reference


def execute(offer: Offer, *, conversation_id: str, actor: Actor = Actor.bot(),
            database_url: Optional[str] = None) -> ExecutionResult:
    """Run ``offer`` once for this conversation; log and return the written summary and next step.

    A human-review offer changes no money: it opens a review dispute and returns
    ``handoff_reason="customer_request"`` for the caller to hand off.
    """
    invoice = lookup.get_invoice(offer.invoice_number, database_url=database_url) if offer.invoice_number else None
    if offer.invoice_number and (invoice is None or invoice.account_number != offer.account_number):
        raise InvalidRequest(f"{offer.invoice_number} is not on {offer.account_number}.")
    if not offer.changes_money:
        dispute = open_review(offer, conversation_id=conversation_id, actor=actor, database_url=database_url)
        result = ExecutionResult(
            ok=True, offer_id=offer.id, reference=None, replayed=False, dispute_reference=dispute,
            summary=f"I'm passing {offer.invoice_number or 'your bill'} to a billing specialist for review; "
                    f"nothing on your bill has been changed.",
            next_step="They'll see what we've discussed, so you won't need to repeat yourself.",
            handoff_reason=offer.handoff_reason or "customer_request")
        return _log(result, offer, conversation_id, actor, database_url)
    try:
        if offer.kind == OfferKind.PAYMENT_PLAN:
            op, dispute_ref, goodwill = _plan(offer, conversation_id, actor, database_url), None, None
        else:
            op, dispute_ref, goodwill = _correct(offer, conversation_id, actor, database_url)
    except BillingError as error:
        return _log(_failure(offer, error, database_url), offer, conversation_id, actor, database_url)
    result = ExecutionResult(
        ok=True, offer_id=offer.id, reference=op.reference, replayed=op.replayed,
        summary=_summary(offer, op, goodwill.record.amount if goodwill else None),
        next_step=_next_step(offer, op, database_url), dispute_reference=dispute_ref,
        goodwill_reference=goodwill.reference if goodwill else None, record=op.record)
    return _log(result, offer, conversation_id, actor, database_url)
