"""The web server: the agent HTTP API, and the demo website with the chat widget (bot.web.site).

``python -m bot.agents.server`` (started by ``make run``).

Every route but ``/health`` and ``POST /api/login`` needs a signed-in agent (session cookie); every
POST also needs the session's CSRF token in ``X-CSRF-Token``. Bad input gets a 4xx with a JSON
``{"error": ...}``, never a 500.
"""
from __future__ import annotations

import argparse
import logging
import os
from functools import wraps
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from dotenv import load_dotenv
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, json, redirect

from bot.agents import accounts, queue, sessions
from bot.agents.rasa_api import RasaApi, RasaApiError
from bot.billing import handoffs as handoff_store
from bot.billing.dates import utcnow
from bot.billing.errors import BillingError, InvalidRequest, NotFound
from bot.billing.interactions import log_interaction
from bot.billing import lookup, operations
from bot.billing.guards import Actor
from bot.billing.kinds import HandoffStatus
from bot.web.site import register_site

logger = logging.getLogger(__name__)

CONSOLE = Path(__file__).resolve().parents[2] / "web" / "console"
MAX_TEXT = 2000
CORRECTION_KINDS = ("refund", "credit_note", "fee_reversal")
OUTCOMES = ("resolved_corrected", "resolved_explained", "resolved_payment_plan", "resolved_no_change",
            "customer_unreachable", "duplicate")
Handler = Callable[..., Awaitable[HTTPResponse]]


def _error(status: int, message: str) -> HTTPResponse:
    return json({"error": message}, status=status)


def _body(request: Request) -> Dict[str, Any]:
    if "json" not in (request.content_type or ""):
        raise InvalidRequest("Send JSON (Content-Type: application/json).")
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - sanic raises its own error type for malformed JSON
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def _text(body: Dict[str, Any], key: str, *, required: bool = True) -> Optional[str]:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{key}' must be a non-empty string.")
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"'{key}' is longer than {MAX_TEXT} characters.")
    return value.strip()


def create_app(*, database_url: Optional[str] = None, rasa_url: Optional[str] = None,
               rasa_token: Optional[str] = None, secret: Optional[str] = None,
               secure_cookies: bool = False, name: str = "agent_api") -> Sanic:
    secret = secret or os.environ.get("AGENT_SESSION_SECRET") or ""
    if len(secret) < 16:
        raise SystemExit("AGENT_SESSION_SECRET must be set (at least 16 characters): see .env.example")
    rasa = RasaApi(rasa_url or os.environ.get("RASA_URL")
                   or f"http://{os.environ.get('RASA_HOST', '127.0.0.1')}:{os.environ.get('RASA_PORT', '5005')}",
                   rasa_token or os.environ.get("RASA_API_TOKEN", ""))
    db = {"database_url": database_url}
    app = Sanic(name)
    app.config.FALLBACK_ERROR_FORMAT = "json"

    @app.exception(InvalidRequest)
    async def invalid(request: Request, exc: Exception) -> HTTPResponse:
        return _error(400, str(exc))

    @app.exception(NotFound)
    async def not_found(request: Request, exc: Exception) -> HTTPResponse:
        return _error(404, str(exc))

    @app.exception(RasaApiError)
    async def rasa_down(request: Request, exc: Exception) -> HTTPResponse:
        logger.warning("Rasa API: %s", exc)
        return _error(502, "The assistant server is not reachable right now; try again in a moment.")

    @app.exception(BillingError)
    async def billing_error(request: Request, exc: Exception) -> HTTPResponse:
        return _error(409, str(exc))

    def agent_required(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            claims = sessions.read(secret, request.cookies.get(sessions.COOKIE))
            if claims is None:
                return _error(401, "Please sign in.")
            if request.method not in ("GET", "HEAD", "OPTIONS") and \
                    not sessions.csrf_ok(claims, request.headers.get(sessions.CSRF_HEADER)):
                return _error(403, "Missing or wrong CSRF token.")
            agent = accounts.get_agent(claims["sub"], **db)
            if agent is None:
                return _error(401, "Please sign in.")
            accounts.touch(agent.username, **db)
            request.ctx.agent = agent
            request.ctx.csrf = claims["csrf"]
            return await handler(request, *args, **kwargs)
        return wrapper

    def owned(reference: str, request: Request):
        handoff = handoff_store.get_handoff(reference, **db)
        if handoff is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        if handoff.status != HandoffStatus.ASSIGNED.value or handoff.assigned_agent != request.ctx.agent.username:
            raise _NotYours(handoff)
        return handoff

    class _NotYours(Exception):
        def __init__(self, handoff: Any) -> None:
            super().__init__(handoff.reference)
            self.handoff = handoff

    @app.exception(_NotYours)
    async def not_yours(request: Request, exc: Exception) -> HTTPResponse:
        h = exc.handoff  # type: ignore[attr-defined]
        who = f"claimed by {h.assigned_agent}" if h.assigned_agent else h.status
        return _error(409, f"Handoff {h.reference} is not yours to work ({who}). Claim it first.")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    register_site(app)

    # --- the console pages: sign-in is public, everything else needs a signed-in agent -----------
    console_files = {"index.html": "text/html", "console.js": "application/javascript",
                     "console.css": "text/css"}
    public_files = {"login.html": "text/html", "login.js": "application/javascript", "login.css": "text/css"}

    def signed_in(request: Request) -> bool:
        claims = sessions.read(secret, request.cookies.get(sessions.COOKIE))
        return claims is not None and accounts.get_agent(claims["sub"], **db) is not None

    @app.get("/console")
    async def console_page(request: Request) -> HTTPResponse:
        if not signed_in(request):
            return redirect("/console/login")
        return await file(CONSOLE / "index.html", mime_type="text/html",
                          headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})

    @app.get("/console/login")
    async def console_login(request: Request) -> HTTPResponse:
        return await file(CONSOLE / "login.html", mime_type="text/html", headers={"X-Frame-Options": "DENY"})

    @app.get("/console/<name>")
    async def console_asset(request: Request, name: str) -> HTTPResponse:
        if name in public_files:
            return await file(CONSOLE / name, mime_type=public_files[name])
        if name not in console_files:
            return _error(404, "not found")
        if not signed_in(request):
            return _error(401, "Please sign in.")
        return await file(CONSOLE / name, mime_type=console_files[name], headers={"Cache-Control": "no-store"})

    @app.post("/api/login")
    async def login(request: Request) -> HTTPResponse:
        body = _body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidRequest("Send 'username' and 'password'.")
        agent = accounts.authenticate(username, password, **db)
        if agent is None:
            logger.info("failed agent sign-in for %r", username[:60])
            return _error(401, "Wrong username or password.")
        accounts.set_presence(agent.username, True, **db)
        session = sessions.issue(secret, agent.username)
        response = json({"agent": {"username": agent.username, "display_name": agent.display_name},
                         "csrf_token": session["csrf"]})
        response.cookies[sessions.COOKIE] = session["cookie"]
        cookie = response.cookies[sessions.COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = int(sessions.LIFETIME.total_seconds())
        if secure_cookies:
            cookie["secure"] = True
        return response

    @app.post("/api/logout")
    @agent_required
    async def logout(request: Request) -> HTTPResponse:
        accounts.set_presence(request.ctx.agent.username, False, **db)
        response = json({"status": "signed out"})
        del response.cookies[sessions.COOKIE]
        return response

    @app.get("/api/me")
    @agent_required
    async def me(request: Request) -> HTTPResponse:
        a = request.ctx.agent
        return json({"username": a.username, "display_name": a.display_name, "online": a.online,
                     "csrf_token": request.ctx.csrf})

    @app.post("/api/presence")
    @agent_required
    async def presence(request: Request) -> HTTPResponse:
        online = _body(request).get("online")
        if not isinstance(online, bool):
            raise InvalidRequest("'online' must be true or false.")
        accounts.set_presence(request.ctx.agent.username, online, **db)
        return json({"online": online, "agents_online": accounts.agents_online(**db)})

    @app.get("/api/handoffs")
    @agent_required
    async def list_queue(request: Request) -> HTTPResponse:
        status = request.args.get("status", "waiting")
        if status == "waiting":
            rows = handoff_store.list_handoffs(status=HandoffStatus.OPEN.value, limit=200, **db)
        elif status == "mine":
            rows = [h for h in handoff_store.list_handoffs(status=HandoffStatus.ASSIGNED.value, limit=200, **db)
                    if h.assigned_agent == request.ctx.agent.username]
        elif status in {s.value for s in HandoffStatus}:
            rows = handoff_store.list_handoffs(status=status, limit=200, **db)
        else:
            raise InvalidRequest("status is one of waiting, mine, open, assigned, resolved, handed_back.")
        return json({"handoffs": queue.ordered(rows, utcnow()), "agents_online": accounts.agents_online(**db)})

    @app.post("/api/handoffs/<reference>/claim")
    @agent_required
    async def claim(request: Request, reference: str) -> HTTPResponse:
        agent = request.ctx.agent.username
        claimed = handoff_store.claim_handoff(reference, agent, **db)
        if claimed is None:
            current = handoff_store.get_handoff(reference, **db)
            who = current.assigned_agent if current else None
            return _error(409, f"Handoff {reference} was already taken" + (f" by {who}." if who else "."))
        log_interaction(conversation_id=claimed.conversation_id, actor="agent", actor_id=agent,
                        text=f"{request.ctx.agent.display_name} joined the conversation.",
                        account_number=claimed.account_number, details={"kind": "claim", "handoff": reference}, **db)
        return json(_handoff_json(claimed))

    @app.get("/api/handoffs/<reference>")
    @agent_required
    async def detail(request: Request, reference: str) -> HTTPResponse:
        handoff = handoff_store.get_handoff(reference, **db)
        if handoff is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        body = _handoff_json(handoff)
        try:
            body["transcript"] = await rasa.transcript(handoff.conversation_id)
            body["transcript_source"] = "tracker"
        except RasaApiError:
            body["transcript"] = (handoff.context or {}).get("transcript") or []
            body["transcript_source"] = "packet"
        return json(body)

    @app.get("/api/handoffs/<reference>/transcript")
    @agent_required
    async def transcript(request: Request, reference: str) -> HTTPResponse:
        handoff = handoff_store.get_handoff(reference, **db)
        if handoff is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        return json({"transcript": await rasa.transcript(handoff.conversation_id)})

    @app.post("/api/handoffs/<reference>/reply")
    @agent_required
    async def reply(request: Request, reference: str) -> HTTPResponse:
        text = _text(_body(request), "text")
        handoff = owned(reference, request)
        agent = request.ctx.agent
        await rasa.send_agent_message(handoff.conversation_id, text, agent.username)
        log_interaction(conversation_id=handoff.conversation_id, actor="agent", actor_id=agent.username, text=text,
                        account_number=handoff.account_number, details={"kind": "reply", "handoff": reference},
                        channel=(handoff.context or {}).get("channel") or "rest", **db)
        return json({"status": "sent"})

    @app.post("/api/handoffs/<reference>/notes")
    @agent_required
    async def note(request: Request, reference: str) -> HTTPResponse:
        text = _text(_body(request), "text")
        handoff = handoff_store.get_handoff(reference, **db)
        if handoff is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        agent = request.ctx.agent.username
        notes = list((handoff.context or {}).get("notes") or [])
        notes.append({"agent": agent, "text": text, "at": utcnow().isoformat()})
        updated = handoff_store.update_handoff(reference, note=text, context_update={"notes": notes}, **db)
        return json(_handoff_json(updated))

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

    @app.post("/api/handoffs/<reference>/resolve")
    @agent_required
    async def resolve(request: Request, reference: str) -> HTTPResponse:
        body = _body(request)
        outcome = body.get("outcome")
        if outcome not in OUTCOMES:
            raise InvalidRequest("outcome is one of " + ", ".join(OUTCOMES) + ".")
        summary = _text(body, "summary", required=False)
        handoff = owned(reference, request)
        agent = request.ctx.agent
        if summary:
            await rasa.send_agent_message(handoff.conversation_id, summary, agent.username)
        updated = handoff_store.update_handoff(reference, status=HandoffStatus.RESOLVED.value, outcome=outcome, **db)
        log_interaction(conversation_id=handoff.conversation_id, actor="agent", actor_id=agent.username,
                        text=summary or f"Resolved: {outcome}", account_number=handoff.account_number,
                        details={"kind": "resolve", "handoff": reference, "outcome": outcome}, **db)
        return json(_handoff_json(updated))

    @app.post("/api/handoffs/<reference>/handback")
    @agent_required
    async def hand_back(request: Request, reference: str) -> HTTPResponse:
        body = _body(request)
        summary = _text(body, "summary")
        handoff = owned(reference, request)
        agent = request.ctx.agent
        text = (f"{agent.display_name} here: {summary} I'm handing you back to our assistant now — "
                "it has the full picture, so just carry on.")
        await rasa.send_agent_message(handoff.conversation_id, text, agent.username,
                                      # action_listen: the bot's next prediction starts from a
                                      # listening state, as after any turn it answered itself.
                                      extra_events=[{"event": "resume"}, {"event": "action", "name": "action_listen"}])
        updated = handoff_store.update_handoff(reference, status=HandoffStatus.HANDED_BACK.value,
                                               outcome=body.get("outcome") if body.get("outcome") in OUTCOMES
                                               else "handed_back", **db)
        log_interaction(conversation_id=handoff.conversation_id, actor="agent", actor_id=agent.username, text=text,
                        account_number=handoff.account_number, details={"kind": "handback", "handoff": reference},
                        **db)
        return json(_handoff_json(updated))

    return app


def _invoice_owner(invoice_number: str, db: Dict[str, Any]) -> Optional[str]:
    invoice = lookup.get_invoice(invoice_number, **db)
    return invoice.account_number if invoice is not None else None


def _handoff_json(h: Any) -> Dict[str, Any]:
    return {
        "reference": h.reference, "conversation_id": h.conversation_id, "account_number": h.account_number,
        "handoff_reason": h.reason_code, "status": h.status, "summary": h.summary, "packet": dict(h.context or {}),
        "assigned_agent": h.assigned_agent, "outcome": h.outcome, "note": h.note,
        "created_at": h.created_at.isoformat(), "claimed_at": h.claimed_at.isoformat() if h.claimed_at else None,
        "resolved_at": h.resolved_at.isoformat() if h.resolved_at else None,
    }


def main(argv: Optional[list] = None) -> int:
    load_dotenv(override=False)
    parser = argparse.ArgumentParser(description="Agent API server")
    parser.add_argument("--host", default=os.environ.get("AGENT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("AGENT_PORT", "5057")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)-8s %(name)s - %(message)s")
    app = create_app(secure_cookies=os.environ.get("AGENT_SECURE_COOKIES", "").lower() in ("1", "true", "yes"))
    app.run(host=args.host, port=args.port, access_log=False, single_process=True) \
        if _supports_single_process() else app.run(host=args.host, port=args.port, access_log=False, workers=1)
    return 0


def _supports_single_process() -> bool:
    import inspect
    return "single_process" in inspect.signature(Sanic.run).parameters


if __name__ == "__main__":
    raise SystemExit(main())
