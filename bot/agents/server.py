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
from datetime import timedelta
from functools import wraps
from typing import Any, Awaitable, Callable, Dict, Optional

from dotenv import load_dotenv
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.agents import accounts, console_pages, money_routes, queue, sessions
from bot.agents.http import body_of as _body, error as _error, text_field as _text
from bot.agents.rasa_api import RasaApi, RasaApiError
from bot.billing import handoffs as handoff_store
from bot.billing.dates import utcnow
from bot.billing.errors import BillingError, InvalidRequest, NotFound
from bot.billing.interactions import log_interaction
from bot.billing.kinds import HandoffStatus
from bot.channels.limits import RateLimiter, setting as limit_setting
from bot.web.site import register_site

logger = logging.getLogger(__name__)

OUTCOMES = ("resolved_corrected", "resolved_explained", "resolved_payment_plan", "resolved_no_change",
            "customer_unreachable", "duplicate")
TOUCH_EVERY = timedelta(seconds=60)  # presence is counted over accounts.STALE_AFTER (5 min)
Handler = Callable[..., Awaitable[HTTPResponse]]


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
    limiter = RateLimiter.from_env()
    agent_limit, sign_in_limit = limit_setting("AGENT_RATE_LIMIT_PER_MINUTE"), limit_setting("SIGN_IN_RATE_LIMIT_PER_MINUTE")
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
            if not limiter.allow_key(f"agent-api:{agent.username}", agent_limit):
                return too_many()
            if agent.last_seen_at is None or utcnow() - agent.last_seen_at > TOUCH_EVERY:
                accounts.touch(agent.username, **db)  # not a write per console poll
            request.ctx.agent = agent
            request.ctx.csrf = claims["csrf"]
            return await handler(request, *args, **kwargs)
        return wrapper

    def too_many() -> HTTPResponse:
        response = _error(429, "Too many requests: please wait a minute and try again.")
        response.headers["Retry-After"] = str(limiter.window)
        return response

    def found(reference: str) -> Any:
        handoff = handoff_store.get_handoff(reference, **db)
        if handoff is None:
            raise NotFound(f"There is no handoff {reference!r}.")
        return handoff

    def owned(reference: str, request: Request):
        handoff = found(reference)
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

    register_site(app, limiter=limiter, sign_in_limit=sign_in_limit)

    console_pages.register(app, secret=secret, db=db)

    @app.post("/api/login")
    async def login(request: Request) -> HTTPResponse:
        body = _body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise InvalidRequest("Send 'username' and 'password'.")
        attempts = f"console-sign-in:{request.ip}:{username.strip().lower()[:60]}"
        if limiter.failures_exceeded(attempts, sign_in_limit):  # before the password is even checked
            logger.warning("agent sign-in for %r refused: too many failures", username[:60])
            return too_many()
        agent = accounts.authenticate(username, password, **db)
        if agent is None:
            limiter.record_failure(attempts)
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
        handoff = found(reference)
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
        handoff = found(reference)
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
        handoff = found(reference)
        agent = request.ctx.agent.username
        notes = list((handoff.context or {}).get("notes") or [])
        notes.append({"agent": agent, "text": text, "at": utcnow().isoformat()})
        updated = handoff_store.update_handoff(reference, note=text, context_update={"notes": notes}, **db)
        return json(_handoff_json(updated))

    money_routes.register(app, agent_required=agent_required, owned=owned, db=db)

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
