"""The billing operations agents run from a handoff, with the agent's authority (bot/billing/policy.yml):
refund, credit note, fee reversal, payment plan. Each is idempotent by the key the console sends with
the form, audited under the agent's name, and limited to the handoff customer's own invoices."""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.agents.http import body_of as _body, text_field as _text
from bot.billing import lookup, operations
from bot.billing.errors import InvalidRequest
from bot.billing.guards import Actor
from bot.billing.interactions import log_interaction

CORRECTION_KINDS = ("refund", "credit_note", "fee_reversal")


def _invoice_owner(invoice_number: str, db: Dict[str, Any]) -> Optional[str]:
    invoice = lookup.get_invoice(invoice_number, **db)
    return invoice.account_number if invoice is not None else None


def register(app: Sanic, *, agent_required: Callable, owned: Callable, db: Dict[str, Any]) -> None:
    database_url = db.get("database_url")

    @app.post("/api/handoffs/<reference>/corrections")
    @agent_required
    async def correct(request: Request, reference: str) -> HTTPResponse:
        """A refund, credit note or fee reversal on the handoff customer's invoice, with the agent's authority."""
        body = _body(request)
        handoff = owned(reference, request)
        kind, invoice = body.get("kind"), body.get("invoice_number")
        if kind not in CORRECTION_KINDS:
            raise InvalidRequest("kind is one of " + ", ".join(CORRECTION_KINDS) + ".")
        key = _text(body, "idempotency_key")
        reason = _text(body, "reason")
        if not isinstance(invoice, str) or _invoice_owner(invoice, db) != handoff.account_number:
            raise InvalidRequest("That invoice is not on this customer's account.")
        actor = Actor.agent(request.ctx.agent.username)
        args = dict(actor=actor, idempotency_key=f"agent:{actor.id}:{reference}:{key}", reason=reason,
                    database_url=database_url)
        amount = body.get("amount")
        if kind != "fee_reversal" and not isinstance(amount, str):
            raise InvalidRequest("amount is a string such as \"49.00\".")
        if kind == "refund":
            result = operations.refund(invoice, amount, **args)
        elif kind == "credit_note":
            result = operations.issue_credit_note(invoice, amount, **args)
        else:
            result = operations.reverse_fee(invoice, amount=amount if isinstance(amount, str) else None, **args)
        record = result.record
        log_interaction(conversation_id=handoff.conversation_id, actor="agent", actor_id=actor.id,
                        text=f"{kind} of ${record.amount:.2f} on {record.invoice_number} ({result.reference})",
                        account_number=handoff.account_number,
                        details={"kind": "correction", "handoff": reference, "reference": result.reference,
                                 "replayed": result.replayed}, **db)
        return json({"reference": result.reference, "replayed": result.replayed, "kind": record.kind,
                     "amount": f"{record.amount:.2f}", "invoice_number": record.invoice_number,
                     "status": record.status})

    @app.post("/api/handoffs/<reference>/payment-plans")
    @agent_required
    async def payment_plan(request: Request, reference: str) -> HTTPResponse:
        """A payment plan for everything the handoff customer owes (agent limits apply)."""
        body = _body(request)
        handoff = owned(reference, request)
        if not handoff.account_number:
            raise InvalidRequest("The customer is not verified: no account to put on a plan.")
        installments = body.get("installments")
        if not isinstance(installments, int) or isinstance(installments, bool):
            raise InvalidRequest("installments is a whole number of months.")
        key = _text(body, "idempotency_key")
        actor = Actor.agent(request.ctx.agent.username)
        result = operations.create_payment_plan(handoff.account_number, installments, actor=actor,
                                                idempotency_key=f"agent:{actor.id}:{reference}:{key}",
                                                database_url=database_url)
        plan = result.record
        schedule = [{"due_date": i.due_date.isoformat(), "amount": f"{i.amount:.2f}"} for i in plan.installments]
        log_interaction(conversation_id=handoff.conversation_id, actor="agent", actor_id=actor.id,
                        text=f"payment plan of ${plan.total_amount:.2f} in {len(schedule)} installments "
                             f"({result.reference})", account_number=handoff.account_number,
                        details={"kind": "payment_plan", "handoff": reference, "reference": result.reference}, **db)
        return json({"reference": result.reference, "replayed": result.replayed,
                     "total": f"{plan.total_amount:.2f}", "installments": schedule})

