"""Signed login tokens for website customers (HS256 JWT, key ``WEB_JWT_SECRET`` from .env).

The website signs a short-lived token when its customer signs in; the chat widget passes it when it
connects. The web chat channel refuses a connection with a forged or expired token and hands the
token to the assistant with each message; the verification step checks it again (signature,
expiry, audience) before treating the customer as verified. A token is never trusted because of
where it came from, so a token typed into another channel's metadata is checked the same way.
"""
from __future__ import annotations

import os
from datetime import timedelta
from typing import Optional

import jwt

from bot.billing.dates import utcnow

AUDIENCE = "northwind-web-chat"
ALGORITHM = "HS256"
LIFETIME = timedelta(hours=1)
METADATA_KEY = "customer_token"


def secret(explicit: Optional[str] = None) -> str:
    return explicit or os.environ.get("WEB_JWT_SECRET") or ""


def issue(account_number: str, *, key: Optional[str] = None, lifetime: timedelta = LIFETIME) -> str:
    key = secret(key)
    if len(key) < 16:
        raise RuntimeError("WEB_JWT_SECRET is not set (see .env.example)")
    now = utcnow()
    return jwt.encode({"sub": account_number, "aud": AUDIENCE, "iat": now, "exp": now + lifetime}, key,
                      algorithm=ALGORITHM)


def account_from(token: Optional[str], *, key: Optional[str] = None) -> Optional[str]:
    """The account number a valid token names; ``None`` for a missing, forged or expired token."""
    key = secret(key)
    if not token or not isinstance(token, str) or len(key) < 16:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["sub", "exp", "aud"]})
    except jwt.PyJWTError:
        return None
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None
