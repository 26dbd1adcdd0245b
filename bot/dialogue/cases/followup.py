"""Follow-up: "where is my refund?" in plain words, from the customer's corrections."""
from __future__ import annotations

from datetime import date
from typing import Optional

from bot.billing import lookup
from bot.billing.dates import human_date, today_utc
from bot.billing.dto import CorrectionDTO
from bot.billing.kinds import CorrectionKind, CorrectionStatus
from bot.billing.money import format_usd
from bot.dialogue.cases.wording import method_phrase

NOTHING_OPEN = "You have no open refunds or credits right now."


def correction_line(c: CorrectionDTO, today: Optional[date] = None) -> str:
    """One sentence on one correction: what, how much, where it stands, when, reference."""
    day = today or today_utc()
    amount = format_usd(c.amount)
    if c.status == CorrectionStatus.FAILED.value:
        return (f"The {amount} {c.kind.replace('_', ' ')} ({c.reference}) didn't go through; "
                f"a billing specialist can look into it for you.")
    if c.kind == CorrectionKind.REFUND.value:
        where = method_phrase(c.method, c.method_detail)
        if c.status == CorrectionStatus.COMPLETED.value:
            return f"The refund of {amount} to {where} ({c.reference}, for {c.invoice_number}) has been completed."
        if c.expected_by is None:
            return f"The refund of {amount} to {where} ({c.reference}, for {c.invoice_number}) is on its way."
        if c.expected_by < day:
            return (f"The refund of {amount} to {where} ({c.reference}, for {c.invoice_number}) was expected by "
                    f"{human_date(c.expected_by)}. If you can't see it yet, I can ask a billing specialist to check.")
        return (f"The refund of {amount} to {where} ({c.reference}, for {c.invoice_number}) is on its way and "
                f"should arrive by {human_date(c.expected_by)}.")
    if c.kind == CorrectionKind.CREDIT_NOTE.value:
        what = f"A {amount} thank-you credit ({c.reference})" if c.is_goodwill else \
            f"A credit of {amount} ({c.reference}, for {c.invoice_number})"
        if c.status == CorrectionStatus.COMPLETED.value:
            return f"{what} has been applied to your bill."
        return f"{what} will come off your next bill."
    return f"The {amount} late fee on {c.invoice_number} has been removed ({c.reference})."


def refund_status(account_number: str, *, database_url: Optional[str] = None, today: Optional[date] = None) -> str:
    """Plain-language progress of the customer's open refunds and credits (status, amount, expected
    date, reference), or that there are none."""
    pending = lookup.open_corrections(account_number, database_url=database_url)
    if not pending:
        return NOTHING_OPEN
    lines = [correction_line(c, today) for c in reversed(pending)]  # oldest first
    return lines[0] if len(lines) == 1 else "\n".join(["Here's where things stand:", *lines])
