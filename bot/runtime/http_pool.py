"""Keep-alive connections from the Rasa server to its endpoints (the action server above all).

Rasa 3.6's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` - a new TCP connection
and a new connector - for every call; a turn calls the action server one to three times. Here each
event loop keeps one session per endpoint configuration (headers, basic auth) and reuses its
connections. Same requests, same responses, same errors as Rasa's own method.

A pooled connection the server has already closed (it was restarted, or its keep-alive ran out)
shows up as ``ServerDisconnectedError``/``ClientOSError`` before any response: the request is sent
once more on a fresh connection. That is safe for the action server: every money operation is
idempotent (``bot.billing.idempotency``), and other actions only read.
"""
from __future__ import annotations

import asyncio
import os
import ssl
import weakref
from typing import Any, Dict, Optional, Text, Tuple

import aiohttp
import ujson
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.exceptions import FileNotFoundException
from rasa.utils.endpoints import ClientResponseError, EndpointConfig, concat_url

from bot.runtime import action_payload

# Shorter than the keep-alive of the action server (Sanic: 5 s), so the client drops an idle
# connection before the server does.
KEEPALIVE_SECONDS = 3.0
CONNECTIONS_PER_HOST = 100
_RETRY_ON = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)

_ORIGINAL = EndpointConfig.request
_sessions: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Dict[Tuple, aiohttp.ClientSession]]" = (
    weakref.WeakKeyDictionary()
)


def _key(endpoint: EndpointConfig) -> Tuple:
    auth = endpoint.basic_auth or {}
    return (tuple(sorted((endpoint.headers or {}).items())), auth.get("username"), auth.get("password"))


def session_for(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """The pooled session of this event loop for ``endpoint``'s headers and credentials."""
    loop = asyncio.get_running_loop()
    per_loop = _sessions.setdefault(loop, {})
    key = _key(endpoint)
    session = per_loop.get(key)
    if session is None or session.closed:
        auth = endpoint.basic_auth
        session = aiohttp.ClientSession(
            json_serialize=_dumps,
            headers=endpoint.headers,
            auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(limit_per_host=CONNECTIONS_PER_HOST,
                                           keepalive_timeout=KEEPALIVE_SECONDS),
        )
        per_loop[key] = session
    return session


# The action server's request carries the whole session (10-100 KB of events): its events' JSON is
# kept between calls, the rest is encoded with ujson (bot/runtime/action_payload.py).
_dumps = action_payload.dumps


async def pooled_request(
    self: EndpointConfig,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """``EndpointConfig.request`` on a pooled keep-alive session (see the module docstring)."""
    headers: Dict[Text, Text] = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs.pop("headers"))
    if self.headers:
        headers.update(self.headers)

    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    params = self.combine_parameters(kwargs)

    for attempt in (1, 2):
        try:
            async with session_for(self).request(
                method, url, headers=headers, params=params, compress=compress, ssl=sslcontext, **kwargs
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(response.status, response.reason, await response.content.read())
                try:
                    return await response.json(loads=ujson.loads)
                except aiohttp.ContentTypeError:
                    return None
        except _RETRY_ON:
            if attempt == 2:
                raise
    return None  # pragma: no cover - the loop returns or raises


async def close_sessions() -> None:
    """Close this event loop's pooled sessions (server shutdown, tests)."""
    loop = asyncio.get_running_loop()
    for session in list(_sessions.pop(loop, {}).values()):
        await session.close()


def install() -> None:
    """Pool the connections of every ``EndpointConfig`` in this process (idempotent)."""
    EndpointConfig.request = pooled_request  # type: ignore[assignment]


def uninstall() -> None:
    EndpointConfig.request = _ORIGINAL  # type: ignore[assignment]


__all__ = ["close_sessions", "install", "pooled_request", "session_for", "uninstall"]
