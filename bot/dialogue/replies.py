"""Plain-language wording of billing facts for customers (no Rasa, no database)."""
from __future__ import annotations

from bot.billing.dates import human_date
from bot.billing.dto import BalanceDTO
from bot.billing.money import format_usd


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.strip() else ""


def balance_summary(name: str, balance: BalanceDTO) -> str:
    """'Priya, you owe $1,240.00 across 2 invoices: INV-0311 ($620.00, due ...) ...'."""
    greeting = f"{first_name(name)}, " if name else ""
    if not balance.invoices:
        text = f"{greeting}you're all paid up — nothing is owed on {balance.account_number}."
    else:
        parts = []
        for inv in balance.invoices:
            state = f"{inv.days_overdue} days overdue" if inv.overdue else f"due {human_date(inv.due_date)}"
            parts.append(f"{inv.number} ({format_usd(inv.balance_due)}, {state})")
        count = len(balance.invoices)
        noun = "invoice" if count == 1 else "invoices"
        text = f"{greeting}you owe {format_usd(balance.total_owed)} across {count} {noun}: " + "; ".join(parts) + "."
        if balance.overdue_amount > 0:
            text += f" {format_usd(balance.overdue_amount)} of that is past due."
    if balance.credit_available > 0:
        text += f" You also have {format_usd(balance.credit_available)} of credit for your next bill."
    return text


# Said when a part the assistant depends on (billing database, action server) fails: honest, nothing
# promised that may not be true (a change may already be done: asking again shows its reference).
TROUBLE_REACHING_ACCOUNT = (
    "Sorry — I'm having trouble reaching your account right now. Nothing you've told me is lost: "
    "please try again in a minute and I'll pick up where we left off. If it can't wait, a billing "
    "specialist can help at 1-800-555-0142 (Mon–Fri, 8am–8pm).")
