"""What the agent needs next to the escalation decision: the customer and their invoices with the
errors the ledger shows, the transcript so far, and a suggested next step.

Rasa-free: the transcript is built from tracker events as plain dicts.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.billing import lookup
from bot.billing.findings import findings_for_invoice

MAX_TRANSCRIPT = 200
MAX_INVOICES = 6

NEXT_STEPS: Mapping[str, str] = {
    "legal": "Acknowledge the complaint without arguing, review the disputed charge and offer to put any "
             "agreement in writing; involve a team lead before any legal statement.",
    "authority": "Review the disputed charge against the invoice and the customer's evidence; your authority "
                 "covers corrections up to the agent limit, so issue the correction if you uphold it.",
    "sentiment": "Open by acknowledging the frustration; the findings below show what went wrong — confirm the "
                 "fix the customer prefers and give a reference.",
    "verification": "Verify the customer by phone or with a document before sharing any account details.",
    "requested": "The customer asked for a person: greet them by name and pick up from the findings below.",
    "misunderstanding": "The assistant did not understand the request: ask what they need in their own words.",
    "no_resolution": "The customer declined every option offered: ask what outcome they expect and whether a "
                     "different schedule or a goodwill credit would help.",
}


AGENT_MESSAGE_KEY = "agent"  # metadata on a bot event that a human agent wrote


def transcript(events: Iterable[Mapping[str, Any]], limit: Optional[int] = MAX_TRANSCRIPT) -> List[Dict[str, Any]]:
    """Who said what and when, oldest first: customer, bot and agent messages, and the pause/resume
    markers of a handoff. The handoff packet keeps the last ``limit``; the console asks for all."""
    lines: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user" and event.get("text"):
            lines.append({"actor": "customer", "text": event["text"], "timestamp": event.get("timestamp"),
                          "channel": event.get("input_channel")})
        elif kind == "bot" and event.get("text"):
            agent = (event.get("metadata") or {}).get(AGENT_MESSAGE_KEY)
            line = {"actor": "agent" if agent else "bot", "text": event["text"], "timestamp": event.get("timestamp")}
            if agent:
                line["agent"] = agent
            lines.append(line)
        elif kind in ("pause", "resume"):
            lines.append({"actor": "system", "text": "conversation paused for an agent" if kind == "pause"
                          else "conversation handed back to the assistant", "timestamp": event.get("timestamp")})
    return lines if limit is None else lines[-limit:]


def latest_channel(events: Iterable[Mapping[str, Any]]) -> Optional[str]:
    channel = None
    for event in events:
        if event.get("event") == "user" and event.get("input_channel"):
            channel = event["input_channel"]
    return channel


def account_snapshot(account_number: Optional[str], *, database_url: Optional[str] = None) -> Dict[str, Any]:
    """The verified customer, their latest invoices with the ledger's findings, and open corrections."""
    if not account_number:
        return {"customer": None, "invoices": [], "findings": []}
    customer = lookup.get_customer_by_account(account_number, database_url=database_url)
    if customer is None:
        return {"customer": None, "invoices": [], "findings": []}
    invoices, findings = [], []
    for invoice in lookup.list_invoices(account_number, limit=MAX_INVOICES, database_url=database_url):
        invoices.append({"number": invoice.number, "issue_date": invoice.issue_date.isoformat(),
                         "due_date": invoice.due_date.isoformat(), "status": invoice.status,
                         "total": f"{invoice.total:.2f}", "balance_due": f"{invoice.balance_due:.2f}",
                         "overdue": invoice.overdue})
        for finding in findings_for_invoice(invoice.number, database_url=database_url) or []:
            findings.append({"invoice_number": finding.invoice_number, "kind": finding.kind,
                             "amount": f"{finding.amount:.2f}", "explanation": finding.explanation})
    corrections = [{"reference": c.reference, "kind": c.kind, "amount": f"{c.amount:.2f}", "status": c.status,
                    "invoice_number": c.invoice_number}
                   for c in lookup.list_corrections(account_number, database_url=database_url)]
    return {
        "customer": {"account_number": customer.account_number, "name": customer.name, "email": customer.email,
                     "phone": customer.phone, "customer_since": customer.customer_since.isoformat()},
        "invoices": invoices,
        "findings": findings,
        "corrections": corrections,
    }


def next_step(reason_code: Optional[str]) -> str:
    return NEXT_STEPS.get(reason_code or "", "Read the transcript and pick up where the assistant left off.")
