"""Website chat channel: Rasa's socket.io protocol, with the customer's login token checked.

Differences from Rasa's ``SocketIOInput`` (same events, so any socket.io widget works):

- a visitor without a token may chat (and verifies in the chat); a connection that offers a token
  that is forged or expired is refused;
- the token is kept per socket on the server and added to every message's metadata under
  ``customer_token`` — whatever metadata the browser sends is dropped, so a page script cannot
  pretend to be someone;
- messages are limited in size and a missing/blank session id is refused;
- rate limits per session and for the whole channel (``bot.channels.limits``): a polite reply instead;
- ``/intent{...}`` is accepted only as the payload of a button offered in the session's last turn with
  buttons (``bot.channels.payloads``); other text loses its leading ``/``;
- a session id a signed-in customer used belongs to that customer: another customer or a signed-out
  visitor asking for it gets a new session (no one continues someone else's verified conversation);
- session persistence is on: the widget keeps its session id across page reloads, and bot messages
  (including an agent's replies, sent later) go to every socket in that session's room.
"""
from __future__ import annotations

import logging
import os
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
import socketio
from socketio import AsyncServer

from bot import gc_tuning
from bot.channels import customer_token, payloads
from bot.channels.fallback import TROUBLE_REACHING_ACCOUNT, needs_apology
from bot.channels.limits import POLITE_TEXT, StatefulChannel
from bot.channels.redact import redact

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5_000
# Session ids the widget may ask for: not a phone number (the SMS conversations' ids) or anything odd.
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
USER_EVENT, BOT_EVENT = "user_uttered", "bot_uttered"


class _RecordingOutput(SocketIOOutput):
    """Rasa's socket.io output that also keeps what it sent (for the buttons offered in this turn)."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent: List[Dict[str, Any]] = []

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        if isinstance(response, dict):
            self.sent.append(response)
        await super()._send_message(socket_id, response)


class WebChatInput(StatefulChannel, InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(credentials.get("socketio_path", "/socket.io"), credentials.get("jwt_key"),
                   credentials.get("state_db"))

    def __init__(self, socketio_path: Text = "/socket.io", jwt_key: Optional[Text] = None,
                 state_db: Optional[str] = None) -> None:
        self.socketio_path = socketio_path
        self.jwt_key = customer_token.secret(jwt_key)
        self.sio: Optional[AsyncServer] = None
        self._tokens: Dict[str, str] = {}  # socket id -> the customer's verified login token
        self._app: Any = None  # the Rasa server's Sanic app (its agent reads the tracker for the fallback)
        self._sessions: Dict[str, str] = {}  # socket id -> the session it asked for (its only conversation)
        self._state_db = state_db

    def _may_join(self, sid: str, session_id: str) -> bool:
        """A signed-in customer's session is theirs alone: someone else (or a signed-out visitor) asking
        for it gets a new one. A signed-in customer claims a session nobody owns yet."""
        account = customer_token.account_from(self._tokens.get(sid), key=self.jwt_key)
        if account:
            return self.store.claim_session(session_id, account)
        return self.store.session_owner(session_id) is None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SocketIOOutput(self.sio, BOT_EVENT) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # With several Rasa servers, emits (an agent's reply) reach sockets on every server through Redis.
        redis_url = os.environ.get("WEB_CHAT_REDIS_URL")
        manager = socketio.AsyncRedisManager(redis_url) if redis_url else None
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        hook = SocketBlueprint(sio, self.socketio_path, "web_chat_webhook", __name__)
        gc_tuning.settle_after_start(hook)  # the Rasa server's collector, once its model is loaded
        self.sio = sio

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.listener("after_server_start")
        async def remember_app(app: Any, *_: Any) -> None:
            self._app = app

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            token = auth.get("token") if isinstance(auth, dict) else None
            if token:
                if customer_token.account_from(token, key=self.jwt_key) is None:
                    logger.warning("web chat: refused a connection with a forged or expired token")
                    return False
                self._tokens[sid] = token
            return True

        @sio.on("disconnect")
        async def disconnect(sid: Text) -> None:
            self._tokens.pop(sid, None)
            self._sessions.pop(sid, None)

        @sio.on("session_request")
        async def session_request(sid: Text, data: Optional[Dict] = None) -> None:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or not SESSION_ID.match(session_id) or \
                    not self._may_join(sid, session_id):
                session_id = uuid.uuid4().hex
                account = customer_token.account_from(self._tokens.get(sid), key=self.jwt_key)
                if account:
                    self.store.claim_session(session_id, account)
            previous = self._sessions.get(sid)
            if previous and previous != session_id:
                await sio.leave_room(sid, previous)
            self._sessions[sid] = session_id
            await sio.enter_room(sid, session_id)  # a coroutine in python-socketio 5.x (Rasa forgets the await)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(USER_EVENT)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session_id, text = data.get("session_id"), data.get("message")
            if not isinstance(session_id, str) or not session_id or not isinstance(text, str):
                await sio.emit("error_message", {"error": "send {session_id, message}"}, room=sid)
                return
            if self._sessions.get(sid) != session_id:  # only into the conversation this socket joined
                await sio.emit("error_message", {"error": "send session_request first"}, room=sid)
                return
            if len(text) > MAX_MESSAGE_CHARS:
                await sio.emit(BOT_EVENT, {"text": f"That message is too long for me — please keep it under "
                                                   f"{MAX_MESSAGE_CHARS} characters."}, room=sid)
                return
            if self.limiter.check(self.name(), session_id):
                await sio.emit(BOT_EVENT, {"text": POLITE_TEXT}, room=sid)
                return
            conversation = f"{self.name()}:{session_id}"
            text = payloads.screen(text, lambda: self.store.get_offered_payloads(conversation))
            token = self._tokens.get(sid)
            metadata = {customer_token.METADATA_KEY: token} if token else {}
            output = _RecordingOutput(sio, BOT_EVENT)
            failed = False
            try:
                await on_new_message(UserMessage(redact(text), output, session_id, input_channel=self.name(),
                                                 metadata=metadata))
            except Exception:  # noqa: BLE001 - answered below, traced here
                failed = True
                logger.exception("web chat: message in session %s failed", session_id)
            agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
            if await needs_apology(agent, session_id, replied=bool(output.sent), failed=failed):
                await output.send_text_message(session_id, TROUBLE_REACHING_ACCOUNT)
            self.store.set_offered_payloads(conversation, payloads.offered(output.sent) or [])

        return hook
