"""The agent console's pages: the sign-in page is public, every other page and script needs a
signed-in agent (anonymous requests get a redirect to the sign-in page or a 401)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file, redirect

from bot.agents import accounts, sessions
from bot.agents.http import error as _error

CONSOLE = Path(__file__).resolve().parents[2] / "web" / "console"


def register(app: Sanic, *, secret: str, db: Dict[str, Any]) -> None:
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

