"""Request and response helpers of the agent API: JSON bodies checked, errors as {"error": ...}."""
from __future__ import annotations

from typing import Any, Dict, Optional

from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.billing.errors import InvalidRequest

MAX_TEXT = 2000


def error(status: int, message: str) -> HTTPResponse:
    return json({"error": message}, status=status)


def body_of(request: Request) -> Dict[str, Any]:
    if "json" not in (request.content_type or ""):
        raise InvalidRequest("Send JSON (Content-Type: application/json).")
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - sanic raises its own error type for malformed JSON
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def text_field(body: Dict[str, Any], key: str, *, required: bool = True) -> Optional[str]:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{key}' must be a non-empty string.")
    if len(value) > MAX_TEXT:
        raise InvalidRequest(f"'{key}' is longer than {MAX_TEXT} characters.")
    return value.strip()
