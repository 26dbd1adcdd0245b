"""Find the case: which invoice(s) a verified customer means, and the facts to answer them.

Rules (in order): a named invoice - only if it is on this account, otherwise it is reported as not
found exactly like a number that does not exist; else, among the customer's recent invoices
(narrowed by a date entity), the newest one with a ledger error matching the intent (and the
amount entity, if any); else the newest one. Balance intents take the open balance.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from bot.billing import lookup
from bot.billing.dates import month_end, today_utc
from bot.billing.db import read_scope
from bot.billing.dto import CorrectionDTO, DisputeDTO, InvoiceDTO
from bot.billing.errors import NotFound
from bot.billing.findings import Finding, detect, findings_for_invoice, load_facts
from bot.billing.identifiers import normalise_account_number, normalise_invoice_number
from bot.billing.kinds import CorrectionKind, CorrectionStatus, FindingKind, PaymentPlanStatus
from bot.billing.money import ZERO, to_money
from bot.billing.policy import load_policy
from bot.dialogue.cases.catalog import plan_prices
from bot.dialogue.cases.model import Case, Intent

RECENT_INVOICES = 12  # how far back an unnamed dispute looks
SCAN_FINDINGS = 12  # of those (or of the open ones), how many are checked for ledger errors

_WANTED: Mapping[str, Optional[Tuple[str, ...]]] = {
    Intent.CHARGED_TWICE: (FindingKind.DUPLICATE_LINE.value,),
    Intent.DISPUTE_CHARGE: None,  # any kind
    Intent.REQUEST_REFUND: None,
}

AmountInput = Union[Mapping[str, Any], str, Decimal, int, None]
DateInput = Union[str, date, None]


def parse_amount(value: AmountInput) -> Optional[Decimal]:
    """The amount entity (``{"amount": "49.00", "currency": "USD"}``, ``"49.00"``, Decimal) in USD,
    or ``None`` (missing, not USD, not positive, unreadable)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        if str(value.get("currency") or "USD").upper() != "USD":
            return None
        value = value.get("amount")
    try:
        amount = to_money(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return amount if amount is not None and amount > ZERO else None


def parse_period(value: DateInput) -> Optional[Tuple[date, date]]:
    """The date entity as a (first, last) day range: ``"2026-10-03"`` or a month ``"2026-10"``."""
    if value is None:
        return None
    if isinstance(value, date):
        return value, value
    text = str(value).strip()
    try:
        if len(text) == 7:
            first = date.fromisoformat(text + "-01")
            return first, month_end(first)
        day = date.fromisoformat(text[:10])
        return day, day
    except ValueError:
        return None


def _names(invoice_number: Union[str, Sequence[str], None]) -> List[str]:
    if not invoice_number:
        return []
    raw = [invoice_number] if isinstance(invoice_number, str) else list(invoice_number)
    out: List[str] = []
    for item in raw:
        number = normalise_invoice_number(str(item)) or str(item).strip().upper()
        if number and number not in out:
            out.append(number)
    return out


def _matches_period(invoice: InvoiceDTO, period: Tuple[date, date]) -> bool:
    first, last = period
    return (invoice.period_start <= last and invoice.period_end >= first) or \
        first <= invoice.issue_date <= last or first <= invoice.due_date <= last


def customer_findings(number: str, *, database_url: Optional[str]) -> List[Finding]:
    """Ledger errors in the customer's favour (an undercharge is not something to refund)."""
    return [f for f in findings_for_invoice(number, database_url=database_url) or [] if f.overcharge]


def scan(invoices: Sequence[InvoiceDTO], *, database_url: Optional[str]) -> List[Tuple[InvoiceDTO, List[Finding]]]:
    """:func:`customer_findings` for several invoices at once (two queries in one read scope)."""
    if not invoices:
        return []
    grace = load_policy().late_fee_grace_days
    with read_scope(database_url) as session:
        facts = load_facts(session, [(inv.id, inv.number, inv.due_date) for inv in invoices])
    return [(inv, [f for f in detect(fact, grace_days=grace) if f.overcharge]) for inv, fact in zip(invoices, facts)]


def _ordered(found: List[Finding], wanted: Optional[Tuple[str, ...]], amount: Optional[Decimal]) -> List[Finding]:
    def rank(f: Finding) -> Tuple[int, int]:
        return (0 if wanted is None or f.kind in wanted else 1, 0 if amount is not None and f.amount == amount else 1)
    return sorted(found, key=rank)


def _pick(candidates: Sequence[InvoiceDTO], intent: str, amount: Optional[Decimal], *,
          database_url: Optional[str]) -> Tuple[InvoiceDTO, List[Finding]]:
    if intent not in _WANTED:  # ask_invoice and friends: the newest (or the named) invoice
        return candidates[0], customer_findings(candidates[0].number, database_url=database_url)
    wanted = _WANTED[intent]
    scanned = scan(candidates[:SCAN_FINDINGS], database_url=database_url)
    matching = [(inv, fs) for inv, fs in scanned if any(wanted is None or f.kind in wanted for f in fs)]
    if amount is not None:
        for inv, fs in matching:
            if any(f.amount == amount for f in fs):
                return inv, fs
        for inv, fs in scanned:
            if any(line.amount == amount for line in inv.lines) or inv.total == amount:
                return inv, fs
    if matching:
        return matching[0]
    return scanned[0]


def remaining_by_kind(findings: Iterable[Finding], corrections: Iterable[CorrectionDTO],
                      disputes: Iterable[DisputeDTO]) -> Dict[str, Decimal]:
    """Amount in error still to correct per finding kind, after the corrections already made.

    Fee reversals count against a wrong late fee; a refund/credit note against the kind its
    dispute was opened for; anything else against the first other findings in order.
    """
    remaining: Dict[str, Decimal] = defaultdict(lambda: ZERO)
    for finding in findings:
        remaining[finding.kind] += finding.amount
    reason_of = {d.reference: d.reason_code for d in disputes}
    loose = ZERO
    for c in corrections:
        if c.is_goodwill or c.status == CorrectionStatus.FAILED.value:
            continue
        if c.kind == CorrectionKind.FEE_REVERSAL.value:
            kind = FindingKind.LATE_FEE_DESPITE_PAYMENT.value
        else:
            kind = reason_of.get(c.dispute_reference or "")
        if kind in remaining:
            remaining[kind] -= c.amount
        else:
            loose += c.amount
    fee = FindingKind.LATE_FEE_DESPITE_PAYMENT.value
    for kind in sorted(remaining, key=lambda k: k == fee):
        used = min(loose, max(remaining[kind], ZERO))
        remaining[kind] -= used
        loose -= used
    return {kind: max(value, ZERO) for kind, value in remaining.items()}


def _with_facts(base: Dict[str, Any], invoices: Sequence[InvoiceDTO], found: List[Finding], *,
                database_url: Optional[str], **extra: Any) -> Case:
    """The case for ``invoices`` (primary first) with the primary's findings and corrections."""
    primary = invoices[0]
    corrections: Tuple[CorrectionDTO, ...] = ()
    if found:
        corrections = tuple(c for c in lookup.list_corrections(base["account_number"], database_url=database_url)
                            if c.invoice_number == primary.number)
    disputes = lookup.list_disputes(base["account_number"], database_url=database_url) if corrections else []
    return Case(invoices=tuple(invoices), findings=tuple(found),
                remaining=remaining_by_kind(found, corrections, disputes), corrections=corrections, **base, **extra)


def _balance_case(base: Dict[str, Any], named: List[InvoiceDTO], recent: List[InvoiceDTO], *,
                  database_url: Optional[str]) -> Case:
    account, day = base["account_number"], base["today"]
    balance = lookup.get_balance(account, database_url=database_url, today=day)
    open_numbers = [i.number for i in balance.invoices] if balance else []
    invoices = named or [inv for number in open_numbers for inv in recent if inv.number == number]
    if len(invoices) < len(open_numbers) and not named:  # older than the recent window
        invoices = [lookup.get_invoice(number, database_url=database_url, today=day) for number in open_numbers]
    active = next((p.reference for p in lookup.list_payment_plans(account, database_url=database_url)
                   if p.status == PaymentPlanStatus.ACTIVE.value), None)
    extra = dict(balance=balance, active_plan_reference=active)
    if not invoices:
        return Case(invoices=(), findings=(), remaining={}, corrections=(), **base, **extra)
    scanned = scan(invoices[:SCAN_FINDINGS], database_url=database_url)
    clean = tuple(inv.number for inv, found in scanned if not found)
    wrong = [(inv, found) for inv, found in scanned if found]
    if wrong:
        primary, found = wrong[0]
        ordered = [primary] + [inv for inv in invoices if inv.number != primary.number]
        return _with_facts(base, ordered, found, database_url=database_url, clean=clean, **extra)
    return Case(invoices=tuple(invoices), findings=(), remaining={}, corrections=(), clean=clean, **base, **extra)


def find_case(account_number: str, intent: str, *, invoice_number: Union[str, Sequence[str], None] = None,
              amount: AmountInput = None, date: DateInput = None, database_url: Optional[str] = None,
              today: Optional[date] = None) -> Case:
    """The case for a verified ``account_number`` and the customer's ``intent`` and entities.

    ``invoice_number`` may be one number or several; ``amount`` is the amount entity
    (``{"amount": "49.00", "currency": "USD"}``), ``date`` the date entity (ISO day or month).
    """
    account = normalise_account_number(account_number)
    customer = lookup.get_customer_by_account(account, database_url=database_url) if account else None
    if customer is None:
        raise NotFound(f"There is no account {account_number!r}.")
    day = today or today_utc()
    disputed = parse_amount(amount)
    recent = lookup.list_invoices(customer.account_number, limit=RECENT_INVOICES, database_url=database_url,
                                  today=day)
    named: List[InvoiceDTO] = []
    not_found: List[str] = []
    for number in _names(invoice_number):
        invoice = next((inv for inv in recent if inv.number == number), None)
        if invoice is None:
            other = lookup.get_invoice(number, database_url=database_url, today=day)
            invoice = other if other is not None and other.account_number == customer.account_number else None
        if invoice is None:
            not_found.append(number)
        else:
            named.append(invoice)
    base: Dict[str, Any] = dict(
        account_number=customer.account_number, customer_name=customer.name, intent=intent,
        recognition=lookup.recognition_facts(customer.account_number, database_url=database_url, today=day),
        not_found=tuple(not_found), disputed_amount=disputed, today=day,
        plan_prices=plan_prices(database_url=database_url, today=day))
    if intent in Intent.BALANCE:
        return _balance_case(base, named, recent, database_url=database_url)

    candidates: List[InvoiceDTO] = named if (named or not_found) else list(recent)
    period = parse_period(date)
    if period is not None and not named:
        candidates = [inv for inv in candidates if _matches_period(inv, period)] or candidates
    if not candidates:
        return Case(invoices=(), findings=(), remaining={}, corrections=(), balance=None, **base)
    primary, found = _pick(candidates, intent, disputed, database_url=database_url)
    found = _ordered(found, _WANTED.get(intent), disputed)
    others = [inv for inv in candidates if inv.number != primary.number] if named else []
    return _with_facts(base, [primary, *others], found, database_url=database_url, balance=None,
                       clean=() if found else (primary.number,))
