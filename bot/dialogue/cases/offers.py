"""Options within policy, as :class:`Offer` objects with the exact operation to run.

* A confirmed error (finding): refund to the original payment method and/or a credit on the next
  bill (the customer chooses; a credit only while they still have a plan), or a fee reversal for a
  wrong late fee; the policy's goodwill credit is added for long-standing customers.
* A correct bill that is hard to pay: the policy's payment-plan schedules, and
  :func:`plan_for_months` for "can I pay over 5 months?".
* A correct bill the customer still disputes: a human review (changes no money).
"""
from __future__ import annotations

from decimal import Decimal
from typing import List, Optional, Tuple

from bot.billing.dto import InvoiceDTO, PaymentDTO
from bot.billing.findings import Finding
from bot.billing.kinds import CorrectionStatus, FindingKind
from bot.billing.money import ZERO, format_usd
from bot.billing.policy import (
    PlanSchedule,
    bot_can_correct,
    goodwill_credit,
    load_policy,
    payment_plan_offers,
    payment_plan_schedule,
    plan_allowed,
)
from bot.dialogue.cases import wording
from bot.dialogue.cases.model import Case, Offer, OfferKind, PlanAnswer, PlanInstallment


def refund_payment(invoice: InvoiceDTO, amount: Decimal) -> Optional[PaymentDTO]:
    """The payment a refund would go back to (the latest one that covers it), if any."""
    if invoice.amount_paid < amount:
        return None
    return next((p for p in sorted(invoice.payments, key=lambda p: (p.received_at, p.id), reverse=True)
                 if p.amount >= amount), None)


def already_corrected(case: Case) -> Decimal:
    """Everything corrected on the case's invoice so far, goodwill included (counts toward authority)."""
    return sum((c.amount for c in case.corrections if c.status != CorrectionStatus.FAILED.value), ZERO)


def open_finding(case: Case) -> Optional[Finding]:
    """The first finding (in the case's order) that still has an amount to correct."""
    return next((f for f in case.findings if case.remaining.get(f.kind, ZERO) > ZERO), None)


def _goodwill(case: Case, amount: Decimal) -> Optional[Decimal]:
    facts = case.recognition
    if facts is None or not facts.plan_name or any(c.is_goodwill for c in case.corrections):
        return None
    value = goodwill_credit(facts.tenure_years, we_were_at_fault=True)
    if value is None or not bot_can_correct(amount + value, already_corrected=already_corrected(case)):
        return None
    return value


def correction_offers(case: Case) -> Tuple[List[Offer], Optional[str]]:
    """Offers for the open finding, or ``([], "authority")`` when the amount is above the bot's
    authority (``([], "other")`` when nothing can be offered, ``([], None)`` without an open finding)."""
    finding, invoice = open_finding(case), case.invoice
    if finding is None or invoice is None:
        return [], None
    amount = case.remaining[finding.kind]
    if not bot_can_correct(amount, already_corrected=already_corrected(case)):
        return [], "authority"
    charge = wording.charge_name(finding, invoice)
    goodwill = _goodwill(case, amount)
    common = dict(account_number=case.account_number, invoice_number=invoice.number, amount=amount,
                  reason=finding.explanation, finding_kind=finding.kind, charge=charge, goodwill_amount=goodwill)
    params = {"invoice_number": invoice.number, "amount": str(amount), "reason": finding.explanation}
    offers: List[Offer] = []
    if finding.kind == FindingKind.LATE_FEE_DESPITE_PAYMENT.value:
        settles = invoice.balance_due - amount <= ZERO
        offers.append(Offer(
            id=f"fee_reversal:{invoice.number}", kind=OfferKind.FEE_REVERSAL,
            title=f"Reverse the {format_usd(amount)} late fee",
            summary=f"I'll remove the {format_usd(amount)} late fee from {invoice.number}"
                    + (", so nothing more is owed on it." if settles else "."),
            operation="reverse_fee", params=params, **common))
        return offers, None
    payment = refund_payment(invoice, amount)
    if payment is not None:
        where = wording.method_phrase(payment.method, payment.method_detail)
        offers.append(Offer(
            id=f"refund:{invoice.number}", kind=OfferKind.REFUND,
            title=f"Refund {format_usd(amount)} to my {wording.method_noun(payment.method)}",
            summary=f"I'll refund {format_usd(amount)} to {where} for {charge} on {invoice.number}.",
            operation="refund", params=params, method_detail=payment.method_detail, destination=where, **common))
    if case.recognition is not None and case.recognition.plan_name:  # a next bill exists
        offers.append(Offer(
            id=f"credit:{invoice.number}", kind=OfferKind.CREDIT_NOTE,
            title=f"Credit {format_usd(amount)} on my next bill",
            summary=f"I'll take {format_usd(amount)} off your next bill for {charge} on {invoice.number}.",
            operation="issue_credit_note", params=params, **common))
    return offers, (None if offers else "other")


def review_offer(case: Case) -> Offer:
    """A human review of the case's invoice (no money changes; the caller hands off)."""
    number = case.invoice.number if case.invoice else None
    target = number or "your bill"
    return Offer(id=f"review:{number or case.account_number}", kind=OfferKind.HUMAN_REVIEW,
                 title="Ask a specialist to review it", summary=f"I'll ask a billing specialist to review {target}.",
                 account_number=case.account_number, invoice_number=number, amount=ZERO, operation=None, params={},
                 handoff_reason="customer_request")


def plan_offer(case: Case, schedule: PlanSchedule) -> Offer:
    """The offer for one payment-plan schedule (the whole open balance)."""
    items = tuple(PlanInstallment(i.sequence, i.due_date, i.amount) for i in schedule.installments)
    numbers = [inv.number for inv in case.invoices]
    return Offer(
        id=f"plan:{schedule.count}", kind=OfferKind.PAYMENT_PLAN, title=wording.plan_title(items),
        summary=f"{schedule.count} monthly payments for {format_usd(schedule.total)}: {wording.plan_dates(items)}.",
        account_number=case.account_number, invoice_number=numbers[0] if len(numbers) == 1 else None,
        amount=schedule.total, operation="create_payment_plan", installments=items,
        charge=wording.join(numbers),
        params={"account_number": case.account_number, "installments": schedule.count,
                "first_due": schedule.first_due_date.isoformat()})


def _plan_total(case: Case) -> Decimal:
    return case.balance.total_owed if case.balance is not None else ZERO


def plan_offers(case: Case) -> List[Offer]:
    """The policy's 2-3 schedules for the open balance (none with an active plan or no balance)."""
    total = _plan_total(case)
    if total <= ZERO or case.active_plan_reference:
        return []
    return [plan_offer(case, s) for s in payment_plan_offers(total, today=case.today)]


def plan_unavailable_reason(case: Case) -> Optional[str]:
    """Why no plan can be offered (plain sentence), or ``None`` when plans are available."""
    total = _plan_total(case)
    if total <= ZERO:
        return "There's nothing owed right now, so there's nothing to spread out."
    if case.active_plan_reference:
        return f"You already have a payment plan in place ({case.active_plan_reference})."
    if plan_offers(case):
        return None
    p = load_policy().payment_plans
    if total > p.max_balance:
        return (f"A balance of {format_usd(total)} is more than I can put on a plan here "
                f"(up to {format_usd(p.max_balance)}), so a billing specialist would need to agree one with you.")
    return (f"A balance of {format_usd(total)} is too small to split: each payment would have to be at least "
            f"{format_usd(p.min_installment_amount)}.")


def plan_for_months(case: Case, months: int) -> PlanAnswer:
    """"Can I pay over ``months`` months?": the schedule if policy allows, else the limits and the
    closest schedule that is allowed."""
    blocked = plan_unavailable_reason(case)
    if blocked is not None:
        return PlanAnswer(False, blocked)
    total = _plan_total(case)
    decision = plan_allowed(total, months)
    if decision:
        offer = plan_offer(case, payment_plan_schedule(total, months, today=case.today))
        return PlanAnswer(True, f"Yes, I can spread {format_usd(total)} over {wording.months(months)}: "
                                f"{wording.plan_dates(offer.installments)}. Shall I set that up?", offer)
    p = load_policy().payment_plans
    allowed = [n for n in range(p.min_installments, p.max_installments + 1) if plan_allowed(total, n)]
    nearest = min(allowed, key=lambda n: (abs(n - months), n))
    closest = plan_offer(case, payment_plan_schedule(total, nearest, today=case.today))
    limits = (f"I can spread a balance over {p.min_installments} to {p.max_installments} monthly payments, "
              f"each at least {format_usd(p.min_installment_amount)}")
    if months > max(allowed) and max(allowed) < p.max_installments:
        limits += f", which for {format_usd(total)} means at most {max(allowed)} payments"
    return PlanAnswer(False, f"{limits}, so {wording.months(months)} isn't something I can set up here. "
                             f"The closest I can do is {closest.title}. Would that work?", closest)


__all__ = ["correction_offers", "plan_for_months", "plan_offers", "plan_unavailable_reason", "review_offer",
           "refund_payment", "open_finding", "already_corrected", "plan_offer"]
