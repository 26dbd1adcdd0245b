"""Decide what to say and offer for a case (read-only: nothing is written here)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Optional

from bot.billing.dto import InvoiceLineDTO
from bot.billing.findings import Finding
from bot.billing.kinds import LineKind
from bot.billing.money import ZERO, format_usd
from bot.billing.policy import load_policy
from bot.dialogue.cases import wording
from bot.dialogue.cases.followup import correction_line
from bot.dialogue.cases.model import Case, Decision, DecisionKind, Intent, Offer
from bot.dialogue.cases.offers import (
    correction_offers,
    open_finding,
    plan_offers,
    plan_unavailable_reason,
    review_offer,
)

ONE_OFF = (LineKind.EQUIPMENT.value, LineKind.INSTALLATION.value, LineKind.OTHER.value)


def _context(case: Case, reason: str, **extra: Any) -> Dict[str, Any]:
    invoice = case.invoice
    return {"reason": reason, "intent": case.intent, "account_number": case.account_number,
            "invoice_number": invoice.number if invoice else None,
            "invoice_total": str(invoice.total) if invoice else None,
            "balance_due": str(invoice.balance_due) if invoice else None,
            "findings": [{"kind": f.kind, "amount": str(f.amount), "explanation": f.explanation}
                         for f in case.findings],
            **{k: (str(v) if isinstance(v, Decimal) else v) for k, v in extra.items()}}


def _prefix(case: Case) -> List[str]:
    if case.not_found and case.invoice is not None:
        return [f"{wording.not_found(case.not_found, ask=False)} I've looked at {case.invoice.number} instead."]
    return []


def _correction(case: Case, finding: Finding, lead: List[str]) -> Decision:
    offers, blocked = correction_offers(case)
    stated = f"{finding.explanation} {wording.APOLOGY}"
    if blocked is not None:
        amount = case.remaining[finding.kind]
        why = (f"Putting it right means a correction of {format_usd(amount)}, which is more than I can approve "
               f"myself" if blocked == "authority" else "I can't put this right from here")
        text = f"{stated} {why}, so a billing specialist will review it and sort it out for you."
        summary = f"{case.customer_name} ({case.account_number}): {finding.explanation} Bot cannot correct ({blocked})."
        return Decision(DecisionKind.HANDOFF, case, tuple(lead + [text]), apology=True, handoff_reason=blocked,
                        handoff_summary=summary, handoff_context=_context(case, blocked, amount=amount))
    thanks = wording.recognition(case.recognition)
    note = wording.goodwill_note(offers[0].goodwill_amount)
    messages = lead + [stated] + ([thanks] if thanks else []) + [wording.options(offers, note)]
    return Decision(DecisionKind.CORRECTION, case, tuple(messages), tuple(offers), apology=True, recognition=thanks)


def _already_corrected(case: Case, lead: List[str]) -> Decision:
    finding = case.findings[0]
    done = [correction_line(c) for c in case.corrections if not c.is_goodwill]
    text = f"{finding.explanation} I'm sorry about that; it has already been put right. " + " ".join(done)
    return Decision(DecisionKind.ALREADY_CORRECTED, case, tuple(lead + [text.strip()]), apology=True)


def _disputed_line(case: Case) -> Optional[InvoiceLineDTO]:
    """The charge a customer disputes on a bill the ledger calls correct: the line with the amount
    they named, else the largest one-off charge (equipment, installation...)."""
    lines = case.invoice.lines
    if case.disputed_amount is not None:
        named = next((line for line in lines if line.amount == case.disputed_amount), None)
        if named is not None:
            return named if named.kind in ONE_OFF else None
    one_off = [line for line in lines if line.kind in ONE_OFF]
    return max(one_off, key=lambda line: line.amount) if one_off else None


def _unconfirmed(case: Case, line: InvoiceLineDTO, lead: List[str]) -> Decision:
    limit = load_policy().authority.bot_max_correction
    reason = "authority" if line.amount > limit else "not_confirmed"
    size = (f", and at {format_usd(line.amount)} it's more than I'm able to adjust myself"
            if reason == "authority" else ", so I can't change it myself")
    text = (f"I can see {case.invoice.number} includes {format_usd(line.amount)} for \"{line.description}\". "
            f"From the billing records alone I can't confirm whether that charge is right or wrong{size}. "
            f"I'll pass it to a billing specialist, who will review it properly. They'll see what we've discussed, "
            f"so you won't need to repeat yourself.")
    summary = (f"{case.customer_name} ({case.account_number}) disputes {format_usd(line.amount)} "
               f"\"{line.description}\" on {case.invoice.number} (total {format_usd(case.invoice.total)}, "
               f"{format_usd(case.invoice.balance_due)} open). The ledger shows no error; "
               + ("above the bot's authority of " + format_usd(limit) if reason == "authority"
                  else "the bot cannot correct unconfirmed charges") + ".")
    return Decision(DecisionKind.HANDOFF, case, tuple(lead + [text]), handoff_reason=reason, handoff_summary=summary,
                    handoff_context=_context(case, reason, amount=line.amount, charge=line.description))


def _explain(case: Case, lead: List[str]) -> Decision:
    invoice = case.invoice
    messages = lead + [wording.explain_invoice(invoice)]
    if case.intent not in Intent.DISPUTES:
        return Decision(DecisionKind.EXPLAIN, case, tuple(messages))
    checked = ("I checked every line and each charge appears only once" if case.intent == Intent.CHARGED_TWICE
               else "I checked every line against your plan and payments")
    review = review_offer(case)
    messages.append(f"{checked}, and I don't see a mistake on {invoice.number}. If you'd still like someone to "
                    f"take a look, I can ask a billing specialist to review it.")
    return Decision(DecisionKind.EXPLAIN, case, tuple(messages), (review,))


def _invoice_decision(case: Case) -> Decision:
    lead = _prefix(case)
    finding = open_finding(case)
    if finding is not None:
        return _correction(case, finding, lead)
    if case.findings:
        return _already_corrected(case, lead)
    if case.intent in Intent.DISPUTES:
        line = _disputed_line(case)
        if line is not None:
            return _unconfirmed(case, line, lead)
    return _explain(case, lead)


def _owed(case: Case) -> str:
    text = wording.balance_text(case.customer_name, case.balance)
    numbers = [i.number for i in case.balance.invoices]
    if numbers and set(numbers) <= set(case.clean):
        text += {1: " I've checked it and the charges are correct.",
                 2: " I've checked both invoices and the charges are correct."}.get(
            len(numbers), " I've checked them and the charges are correct.")
    return text


def _plan_choices(offers: List[Offer], intro: str) -> str:
    lines = [f"{n}) {o.title}" for n, o in enumerate(offers, 1)]
    shortest, longest = len(offers[0].installments), len(offers[-1].installments)
    more = (f" I can also look at a different number of months, from {shortest} to {longest}."
            if longest - shortest + 1 > len(offers) else "")
    return "\n".join([intro, *lines, f"Which would suit you?{more}"])


def _plan_decision(case: Case, lead: List[str], offers: List[Offer]) -> Decision:
    blocked = plan_unavailable_reason(case)
    total = case.balance.total_owed
    if blocked is not None:
        if total <= load_policy().payment_plans.max_balance:
            return Decision(DecisionKind.BALANCE, case, tuple(lead + [_owed(case), blocked]))
        summary = (f"{case.customer_name} ({case.account_number}) asks for a payment plan for "
                   f"{format_usd(total)}, above the bot's limit.")
        return Decision(DecisionKind.HANDOFF, case, tuple(lead + [_owed(case), blocked]), handoff_reason="policy",
                        handoff_summary=summary, handoff_context=_context(case, "policy", amount=total))
    thanks = wording.recognition(case.recognition)
    cheaper = wording.cheaper_plan(case.recognition.plan_name if case.recognition else None, case.plan_prices)
    messages = lead + [_owed(case)] + ([thanks] if thanks else [])
    messages.append(_plan_choices(offers, "I can spread it into monthly payments:"))
    messages += [cheaper] if cheaper else []
    return Decision(DecisionKind.PAYMENT_PLAN, case, tuple(messages), tuple(offers), recognition=thanks,
                    info=(cheaper,) if cheaper else ())


def _balance_decision(case: Case) -> Decision:
    lead = _prefix(case)
    finding = open_finding(case)
    if finding is not None:  # part of what is owed is our mistake: put that right first
        return _correction(case, finding, lead + [wording.balance_text(case.customer_name, case.balance)])
    owed = case.balance.total_owed if case.balance is not None else ZERO
    offers = plan_offers(case)
    if case.intent == Intent.REQUEST_PAYMENT_PLAN and owed > ZERO:
        return _plan_decision(case, lead, offers)
    messages = lead + [wording.balance_text(case.customer_name, case.balance)]
    if case.intent == Intent.MAKE_PAYMENT and owed > ZERO:
        messages.append(f"I can't take a payment in this chat, but our billing specialists can help you pay at "
                        f"{wording.SPECIALISTS_PHONE}.")
    if case.balance is not None and case.balance.overdue_amount > ZERO and offers:
        messages.append(_plan_choices(offers, f"If it would help, I can spread {format_usd(owed)} over a few "
                                              f"monthly payments:"))
        return Decision(DecisionKind.BALANCE, case, tuple(messages), tuple(offers))
    return Decision(DecisionKind.BALANCE, case, tuple(messages))


def decide(case: Case) -> Decision:
    """What to say and offer for ``case`` (see :class:`~bot.dialogue.cases.model.Decision`)."""
    if case.not_found and case.invoice is None:
        return Decision(DecisionKind.NOT_FOUND, case, (wording.not_found(case.not_found),))
    if case.intent in Intent.BALANCE:
        return _balance_decision(case)
    if case.invoice is None:
        return Decision(DecisionKind.NOT_FOUND, case, (wording.not_found(()),))
    return _invoice_decision(case)
