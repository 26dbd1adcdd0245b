"""Routes of the demo website: the page, the widget's files, and the demo sign-in.

The sign-in stands in for the company website's own login: account number plus postal code (the
demo accounts have no passwords) gives a one-hour signed token (bot.channels.customer_token) that
the chat widget presents when it connects. Nothing is fetched from a CDN: socket.io's client comes
from web/node_modules (installed by `make setup` from web/package-lock.json).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, json as json_response, raw

from bot.billing import lookup
from bot.channels import customer_token
from bot.channels.limits import RateLimiter, setting

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "web" / "site"
SOCKET_IO = ROOT / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
ASSETS = {"widget.js": "application/javascript", "widget.css": "text/css", "index.html": "text/html"}


def rasa_public_url() -> str:
    return os.environ.get("RASA_PUBLIC_URL") or \
        f"http://{os.environ.get('RASA_HOST', '127.0.0.1')}:{os.environ.get('RASA_PORT', '5005')}"


def register_site(app: Sanic, *, limiter: Optional[RateLimiter] = None, sign_in_limit: Optional[int] = None) -> None:
    limiter = limiter or RateLimiter.from_env()
    sign_in_limit = setting("SIGN_IN_RATE_LIMIT_PER_MINUTE") if sign_in_limit is None else sign_in_limit

    @app.get("/")
    async def index(request: Request) -> HTTPResponse:
        return await file(SITE / "index.html", mime_type="text/html")

    @app.get("/site/<name>")
    async def asset(request: Request, name: str) -> HTTPResponse:
        if name == "config.js":
            body = "window.NORTHWIND = " + json.dumps({"rasaUrl": rasa_public_url()}) + ";\n"
            return raw(body.encode(), content_type="application/javascript")
        if name not in ASSETS:
            return json_response({"error": "not found"}, status=404)
        return await file(SITE / name, mime_type=ASSETS[name])

    @app.get("/vendor/socket.io.min.js")
    async def socket_io(request: Request) -> HTTPResponse:
        if not SOCKET_IO.exists():
            return json_response({"error": "run `make setup` to install web/node_modules"}, status=503)
        return await file(SOCKET_IO, mime_type="application/javascript")

    @app.post("/site/api/session")
    async def sign_in(request: Request) -> HTTPResponse:
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - malformed JSON
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("account_number"), str) \
                or not isinstance(body.get("postal_code"), str):
            return json_response({"error": "Send account_number and postal_code."}, status=400)
        account, postal = body["account_number"].strip(), body["postal_code"].strip()
        attempts = f"site-sign-in:{request.ip}:{account.upper()[:40]}"
        if limiter.failures_exceeded(attempts, sign_in_limit):  # no guessing postal codes at speed
            return json_response({"error": "Too many attempts: please wait a minute and try again."}, status=429,
                                 headers={"Retry-After": str(limiter.window)})
        customer = lookup.verify(account, postal) if account.upper().startswith("ACC") and len(account) <= 40 \
            and len(postal) <= 20 else None
        if customer is None:
            limiter.record_failure(attempts)
            return json_response({"error": "That account number and postal code don't match."}, status=401)
        return json_response({"token": customer_token.issue(customer.account_number), "name": customer.name,
                              "account_number": customer.account_number})
