"""Agent sessions: a signed, expiring cookie (PyJWT, HS256) plus a CSRF token bound to it.

The cookie is HttpOnly and SameSite=Strict; every state-changing request must also send the
session's CSRF token in the ``X-CSRF-Token`` header (the login response and ``GET /api/me`` give it
to the console's script, which cannot read the cookie).
"""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any, Dict, Optional

import jwt

from bot.billing.dates import utcnow

COOKIE = "agent_session"
CSRF_HEADER = "X-CSRF-Token"
LIFETIME = timedelta(hours=10)
_ALGORITHM = "HS256"
_AUDIENCE = "agent-console"


def issue(secret: str, username: str, lifetime: timedelta = LIFETIME) -> Dict[str, str]:
    """A new session for ``username``: the cookie value and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    token = jwt.encode({"sub": username, "csrf": csrf, "aud": _AUDIENCE, "iat": now, "exp": now + lifetime},
                       secret, algorithm=_ALGORITHM)
    return {"cookie": token, "csrf": csrf}


def read(secret: str, cookie: Optional[str]) -> Optional[Dict[str, Any]]:
    """The session's claims, or ``None`` when missing, forged or expired."""
    if not cookie:
        return None
    try:
        claims = jwt.decode(cookie, secret, algorithms=[_ALGORITHM], audience=_AUDIENCE,
                            options={"require": ["sub", "csrf", "exp"]})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims.get("sub"), str) else None


def csrf_ok(claims: Dict[str, Any], header: Optional[str]) -> bool:
    return bool(header) and hmac.compare_digest(str(claims.get("csrf", "")), header)
