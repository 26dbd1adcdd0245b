"""Customer-facing sentences: calm, warm, brief, accurate. Plain ASCII text (SMS-safe, no markdown);
amounts via ``format_usd``, dates via ``human_date`` (button titles use short "Nov 29" dates)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Iterable, Mapping, Optional, Sequence

from bot.billing.dates import human_date
from bot.billing.dto import BalanceDTO, InvoiceDTO, InvoiceLineDTO, RecognitionFacts
from bot.billing.findings import Finding
from bot.billing.kinds import FindingKind, LineKind, PaymentMethod
from bot.billing.money import ZERO, format_usd
from bot.dialogue.cases.model import Offer, OfferKind, PlanInstallment

APOLOGY = "That's our mistake, and I'm sorry."
SPECIALISTS_PHONE = "1-800-555-0142 (Monday to Friday, 8am to 8pm)"


def join(items: Sequence[str], last: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return items[0] if items else ""
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def short_date(day: date) -> str:
    return f"{day:%b} {day.day}"


def months(count: int) -> str:
    return "1 month" if count == 1 else f"{count} months"


def plan_name(line: InvoiceLineDTO) -> str:
    if line.plan_code:
        return line.plan_code.capitalize()
    return line.description.split(" plan")[0]


def charge_name(finding: Finding, invoice: InvoiceDTO) -> str:
    """``the duplicate Standard charge``, ``the late fee``, ``the Premium charge after your cancellation``."""
    line = next((l for l in invoice.lines if l.id in finding.line_ids), None)
    what = (plan_name(line) if line is not None and line.kind == LineKind.PLAN.value
            else f'"{line.description}"' if line is not None else "")
    kind = finding.kind
    if kind == FindingKind.LATE_FEE_DESPITE_PAYMENT.value:
        return "the late fee"
    if kind == FindingKind.DUPLICATE_LINE.value:
        return f"the duplicate {what} charge".replace("  ", " ")
    if kind == FindingKind.CHARGE_AFTER_CANCELLATION.value:
        return f"the {what} charge after your cancellation".replace("  ", " ")
    return f"the overcharge on the {what} plan".replace("  ", " ")


def method_noun(method: str) -> str:
    return "card" if method == PaymentMethod.CARD.value else "bank account"


def method_phrase(method: Optional[str], detail: Optional[str]) -> str:
    """Where a refund goes: ``your Visa ending 4242``."""
    if method == PaymentMethod.CARD.value and detail:
        return f"your {detail}"
    if method == PaymentMethod.DIRECT_DEBIT.value and detail and "ending" in detail:
        return f"the bank account on your direct debit ending {detail.rsplit(' ', 1)[-1]}"
    if method == PaymentMethod.CARD.value:
        return "your card"
    return "the bank account you paid from"


def plan_dates(items: Sequence[PlanInstallment]) -> str:
    """``$413.33 on December 1, 2026, $413.33 on January 1, 2027 and $413.34 on February 1, 2027``."""
    return join([f"{format_usd(i.amount)} on {human_date(i.due_date)}" for i in items])


def plan_title(items: Sequence[PlanInstallment]) -> str:
    """``3 payments of $413.33 (Nov 29, Dec 29, Jan 29; last one $413.34)``."""
    first, last = items[0], items[-1]
    if len(items) <= 3:
        when = ", ".join(short_date(i.due_date) for i in items)
    else:
        when = f"{short_date(first.due_date)} to {short_date(last.due_date)}"
    odd = [i for i in items if i.amount != first.amount]
    extra = f"; last one {format_usd(last.amount)}" if odd == [last] else ""
    if odd and odd != [last]:
        extra = "; " + ", ".join(format_usd(i.amount) for i in items)
    return f"{len(items)} payments of {format_usd(first.amount)} ({when}{extra})"


def recognition(facts: Optional[RecognitionFacts]) -> Optional[str]:
    """Thanks grounded in the data: tenure, and "always paid on time" only when true."""
    if facts is None:
        return None
    since = facts.customer_since.year
    if facts.tenure_years >= 1 and facts.always_paid_on_time:
        return f"You've been with us since {since} and have always paid on time, thank you."
    if facts.tenure_years >= 1:
        return f"Thank you for being with us since {since}."
    if facts.always_paid_on_time and facts.invoices_due >= 3:
        return "You've always paid on time, thank you."
    return None


def _period(invoice: InvoiceDTO) -> str:
    s, e = invoice.period_start, invoice.period_end
    if s.day == 1 and (e.month, e.year) == (s.month, s.year) and e.day >= 28:
        return f"{s:%B} {s.year}"
    return f"{human_date(s)} to {human_date(e)}"


def _payments(invoice: InvoiceDTO) -> str:
    payments = invoice.payments
    due = human_date(invoice.due_date)
    if invoice.balance_due <= ZERO and payments:
        last = payments[-1]
        if len(payments) == 1:
            return (f"It was due {due}, and your payment of {format_usd(last.amount)} "
                    f"({last.method_detail or method_noun(last.method)}) on {human_date(last.received_at.date())} "
                    f"paid it in full.")
        return (f"It was due {due}, and your {len(payments)} payments of {format_usd(invoice.amount_paid)} in total, "
                f"the last on {human_date(last.received_at.date())}, paid it in full.")
    if invoice.balance_due <= ZERO:
        return "Nothing is owed on it."
    paid = f"{format_usd(invoice.amount_paid)} has been paid and " if invoice.amount_paid > ZERO else ""
    verb = "was due" if invoice.overdue else "is due"
    return f"{paid}{format_usd(invoice.balance_due)} is still open; it {verb} {due}."


def explain_invoice(invoice: InvoiceDTO) -> str:
    """The bill line by line, with the tax note and how it was paid."""
    tax_note = "tax included" if invoice.prices_include_tax else "before tax"
    rows = [f"- {line.description}: {format_usd(line.amount)} ({tax_note})" for line in invoice.lines]
    if invoice.prices_include_tax:
        tax = "Prices include tax, so there is no separate tax charge."
    else:
        rows.append(f"- Tax: {format_usd(invoice.tax_amount)}")
        tax = ""
    head = f"Here's {invoice.number} for {_period(invoice)}, line by line:"
    total = f"Total: {format_usd(invoice.total)}. {tax}".strip()
    return "\n".join([head, *rows, total, _payments(invoice)])


def not_found(numbers: Sequence[str], ask: bool = True) -> str:
    """The same words whether the number does not exist or belongs to someone else."""
    if not numbers:
        return "I can't see any invoices on your account yet."
    noun = "invoice" if len(numbers) == 1 else "invoices"
    text = f"I couldn't find {noun} {join(list(numbers), 'or')} on your account."
    return text + (" Could you check the number? It's at the top of the bill and starts with INV." if ask else "")


def options(offers: Iterable[Offer], note: Optional[str] = None) -> str:
    """The choices as one plain-text block ending with a question (buttons may carry the titles);
    ``note`` goes just before the question."""
    offers = list(offers)
    extra = f" {note}" if note else ""
    if len(offers) == 1:
        return f"{offers[0].summary}{extra} Shall I go ahead?"
    if all(o.kind in (OfferKind.REFUND, OfferKind.CREDIT_NOTE) for o in offers):
        phrases = [f"refund {format_usd(o.amount)} to {o.destination}" if o.kind == OfferKind.REFUND
                   else f"take {format_usd(o.amount)} off your next bill" for o in offers]
        return f"I can {join(phrases, 'or')}, whichever you prefer.{extra} Which would you like?"
    lines = [f"{n}) {o.title}" for n, o in enumerate(offers, 1)]
    return "\n".join(["Here are the options:", *lines, f"{note or ''} Which would suit you?".strip()])


def goodwill_note(amount: Optional[Decimal]) -> Optional[str]:
    if amount is None:
        return None
    return f"As a thank-you for your loyalty, I'll also add a {format_usd(amount)} credit to your next bill."


def confirmation(offer: Offer) -> str:
    """One message that states exactly what will happen and asks to go ahead."""
    amount = format_usd(offer.amount)
    extra = (f", and add a {format_usd(offer.goodwill_amount)} thank-you credit to your next bill"
             if offer.goodwill_amount is not None else "")
    if offer.kind == OfferKind.REFUND:
        text = f"I'll refund {amount} to {offer.destination} for {offer.charge} on {offer.invoice_number}{extra}"
    elif offer.kind == OfferKind.CREDIT_NOTE:
        text = f"I'll take {amount} off your next bill for {offer.charge} on {offer.invoice_number}{extra}"
    elif offer.kind == OfferKind.FEE_REVERSAL:
        text = offer.summary.rstrip(".") + extra
    elif offer.kind == OfferKind.PAYMENT_PLAN:
        text = f"I'll set up a payment plan for {amount} ({offer.charge}): {plan_dates(offer.installments)}"
    else:
        text = offer.summary.rstrip(".")
    return f"To confirm: {text}. Shall I go ahead?"


def cheaper_plan(current: Optional[str], prices: Mapping[str, Decimal]) -> Optional[str]:
    """Information about the cheapest plan when the customer is on a dearer one."""
    if not current or current not in prices or not prices:
        return None
    name, price = min(prices.items(), key=lambda item: item[1])
    if price >= prices[current]:
        return None
    return (f"If the monthly cost is a stretch, our {name} plan is {format_usd(price)} a month, compared with "
            f"{format_usd(prices[current])} for your {current} plan. Just ask if you'd like to know more.")


def balance_text(name: str, balance: Optional[BalanceDTO]) -> str:
    """What is owed, with due dates and what is past due (ASCII, one message)."""
    first = name.split()[0] if name and name.strip() else ""
    greeting = f"{first}, " if first else ""
    if balance is None or not balance.invoices:
        account = f" on {balance.account_number}" if balance is not None else ""
        text = f"{greeting}you're all paid up: nothing is owed{account}."
    else:
        items = balance.invoices
        parts = [f"{i.number} ({format_usd(i.balance_due)}, {'was due' if i.overdue else 'due'} "
                 f"{human_date(i.due_date)})" for i in items]
        text = f"{greeting}you owe {format_usd(balance.total_owed)}: {join(parts)}."
        if balance.overdue_amount >= balance.total_owed > ZERO:
            text += " It's past due." if len(items) == 1 else \
                " Both are past due." if len(items) == 2 else " All of it is past due."
        elif balance.overdue_amount > ZERO:
            text += f" {format_usd(balance.overdue_amount)} of that is past due."
    if balance is not None and balance.credit_available > ZERO:
        text += f" You also have {format_usd(balance.credit_available)} of credit for your next bill."
    return text
