"""Twilio SMS channel for Rasa: signed webhooks in, replies out through Twilio's REST API.

Replaces Rasa's built-in ``twilio`` connector, which checks no signature and fails on media-only
messages. ``credentials.yml``::

    bot.channels.twilio_sms.TwilioSmsInput:
      # every key is optional and falls back to its environment variable (see ENV_VARS)

Webhook (set it as the number's "A message comes in" URL, HTTP POST)::

    POST /webhooks/twilio_sms/webhook     form-encoded, signed with X-Twilio-Signature
    GET  /webhooks/twilio_sms/            health

What the webhook does, in order:

1. rejects anything that is not a small, UTF-8, ``application/x-www-form-urlencoded`` body (4xx);
2. checks ``X-Twilio-Signature`` with the auth token over ``public_url`` + path (the URL Twilio
   called, which behind a proxy is not the URL this server sees) and the POSTed params, blank
   ones included; missing or wrong -> 403, logged as a warning without the sender or the text;
3. validates ``From`` (E.164), ``Body``, ``MessageSid``, ``NumMedia`` (400 otherwise);
4. drops a retried ``MessageSid`` (200, empty TwiML, nothing reaches Rasa);
5. handles carrier keywords (whole message, trimmed, any case): STOP/STOPALL/UNSUBSCRIBE/CANCEL/
   END/QUIT opt the number out (nothing is sent to it any more, bot or agent); while opted out,
   START/UNSTOP/YES opt back in and everything else is ignored; HELP/INFO answer ``HELP_TEXT``;
6. applies the rate limits per number and for the channel (``bot.channels.limits``): the first message
   over a limit gets one polite SMS, the rest of the window nothing; STOP/HELP always work;
   answers media-only messages with ``MEDIA_ONLY_TEXT``;
7. maps "1", "2.", "option 2", ... to the payload of that button of the last message sent with
   buttons; any other text loses its leading ``/`` so customers cannot type ``/intent{...}``;
8. answers Twilio at once with empty TwiML and, in a background task, passes the message to Rasa
   (sender id = ``From``, metadata ``{"channel": "sms", "phone": From}``, message id =
   ``MessageSid``) and sends the collected replies: buttons as "Reply 1 for ..., 2 for ...", long
   texts split at sentence boundaries into messages of at most ``max_chars`` characters.

Opt-outs, processed ``MessageSid``s and the last buttons per number live in a small SQLite file
(``bot.channels.state``). Sending uses the ``twilio`` library in a worker thread; Twilio errors
are logged, never raised into Sanic. ``get_output_channel()`` gives Rasa an output channel for
``?output_channel=twilio_sms`` (agent replies), which honours opt-outs as well.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import threading
import weakref
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text
from urllib.parse import parse_qs, urlparse

from bot import gc_tuning
from bot.channels.fallback import TROUBLE_REACHING_ACCOUNT, needs_apology
from bot.channels.redact import redact
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels import sms_text
from bot.channels.limits import POLITE_TEXT, RateLimiter
from bot.channels.pending import PendingTasks
from bot.channels.state import ChannelStateStore

logger = logging.getLogger(__name__)

CHANNEL_NAME = "twilio_sms"
SIGNATURE_HEADER = "X-Twilio-Signature"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_WEBHOOK_BYTES = 32 * 1024  # Twilio's inbound payloads are ~1-2 KiB (Body <= 1600 chars)
TWILIO_HTTP_TIMEOUT_S = 10.0
MAX_CHARS_RANGE = (40, 1600)  # 1600: Twilio's limit for one message body
SHUTDOWN_GRACE_S = 10.0
ERROR_UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient"

# credentials.yml key -> environment variable used when the key is missing or empty.
ENV_VARS = {
    "account_sid": "TWILIO_ACCOUNT_SID",
    "auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_number": "TWILIO_NUMBER",
    "public_url": "TWILIO_PUBLIC_URL",
    "api_base_url": "TWILIO_API_BASE_URL",
    "max_chars": "TWILIO_SMS_MAX_CHARS",
    "state_db": "CHANNEL_STATE_DB",
}

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MESSAGE_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")
EMPTY_TWIML = str(MessagingResponse())

ClientFactory = Callable[[], Client]


def redact_phone(phone: Optional[str]) -> str:
    """Enough of a number to tell two log lines apart, not enough to identify anyone."""
    return f"***{phone[-2:]}" if phone and len(phone) > 4 else "***"


def default_client_factory(
    account_sid: Optional[str], auth_token: Optional[str], api_base_url: Optional[str] = None
) -> ClientFactory:
    """Builds the real Twilio client; ``api_base_url`` (tests) replaces ``https://api.twilio.com``."""

    def create() -> Client:
        http_client = TwilioHttpClient(timeout=TWILIO_HTTP_TIMEOUT_S)
        if not api_base_url:
            return Client(account_sid, auth_token, http_client=http_client)
        # environment={}: no TWILIO_EDGE/TWILIO_REGION host rewriting of the custom base URL.
        client = Client(account_sid, auth_token, http_client=http_client, environment={})
        client.api.base_url = api_base_url.rstrip("/")
        return client

    return create


class _FormParams(dict):
    """Form params as ``{name: [values]}`` with the ``getlist`` ``RequestValidator`` looks for."""

    def getlist(self, name: str) -> List[str]:
        return self[name]

    def first(self, name: str) -> Optional[str]:
        values = self.get(name)
        return values[0] if values else None


class _Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SmsSender:
    """Sends texts to phone numbers through Twilio, honouring opt-outs; shared by both channels."""

    def __init__(
        self,
        store: ChannelStateStore,
        twilio_number: Optional[str],
        client_factory: ClientFactory,
        max_chars: int = sms_text.DEFAULT_MAX_CHARS,
    ) -> None:
        self.store = store
        self.twilio_number = twilio_number
        self.max_chars = max_chars
        self._client_factory = client_factory
        self._client: Optional[Client] = None
        self._client_lock = threading.Lock()
        self._phone_locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()

    def client(self) -> Client:
        with self._client_lock:
            if self._client is None:
                self._client = self._client_factory()
            return self._client

    def _lock_for(self, phone: str) -> asyncio.Lock:
        lock = self._phone_locks.get(phone)
        if lock is None:
            lock = asyncio.Lock()
            self._phone_locks[phone] = lock
        return lock

    async def deliver(self, phone: str, messages: Iterable[Dict[str, Any]], *, replace_buttons: bool = True) -> int:
        """Sends one bot turn (Rasa response dicts) to ``phone``; returns the SMS count sent.

        The buttons of the turn's last message with buttons become the ones "1", "2", ... refer
        to; a turn without buttons forgets earlier ones (unless ``replace_buttons`` is false).
        """
        if not E164.match(phone or ""):
            logger.warning("twilio_sms: not sending to a recipient id that is not an E.164 number")
            return 0
        bodies: List[str] = []
        remembered: List[Dict[str, str]] = []
        for message in messages:
            body, buttons = self._render(message)
            if buttons:
                remembered = buttons
            if body:
                bodies.append(body)
        if not bodies:
            return 0
        async with self._lock_for(phone):
            if self.store.is_opted_out(phone):
                logger.info("twilio_sms: %d message(s) to %s not sent: opted out", len(bodies), redact_phone(phone))
                return 0
            if replace_buttons:
                self.store.set_buttons(phone, remembered)
            sent = 0
            for body in bodies:
                sent += await self._send_body(phone, body)
            return sent

    async def send_text(self, phone: str, text: str) -> int:
        return await self.deliver(phone, [{"text": text}])

    async def send_notice(self, phone: str, text: str) -> int:
        """A channel message (help, media, errors): the options last offered stay valid."""
        return await self.deliver(phone, [{"text": text}], replace_buttons=False)

    @staticmethod
    def _render(message: Dict[str, Any]) -> tuple:
        lines: List[str] = []
        text = message.get("text")
        custom = message.get("custom")
        if not text and isinstance(custom, dict) and isinstance(custom.get("text"), str):
            text = custom["text"]  # a custom payload with a plain text is still worth a text
        elif custom:
            logger.debug("twilio_sms: custom payload without text not sent over SMS")
        buttons = message.get("buttons") or message.get("quick_replies") or []
        buttons = [b for b in buttons if isinstance(b, dict) and sms_text.button_title(b)]
        if buttons:
            lines.append(sms_text.render_buttons(str(text or ""), buttons))
        elif text:
            lines.append(str(text))
        for key in ("image", "attachment"):
            if message.get(key) and isinstance(message[key], str):
                lines.append(message[key])
        if message.get("elements"):
            logger.debug("twilio_sms: carousel elements not sent over SMS")
        remembered = [
            {"title": sms_text.button_title(b), "payload": str(b.get("payload") or sms_text.button_title(b))}
            for b in buttons
        ]
        return "\n".join(line for line in lines if line.strip()).strip(), remembered

    async def _send_body(self, phone: str, body: str) -> int:
        sent = 0
        for part in sms_text.split_message(body, self.max_chars):
            if self.store.is_opted_out(phone):  # a STOP may arrive while a long reply goes out
                logger.info("twilio_sms: rest of a reply to %s not sent: opted out", redact_phone(phone))
                break
            if await self._create(phone, part):
                sent += 1
        return sent

    async def _create(self, phone: str, body: str) -> bool:
        if not self.twilio_number:
            logger.error("twilio_sms: no twilio_number configured (TWILIO_NUMBER): message not sent")
            return False
        loop = asyncio.get_running_loop()
        try:
            client = self.client()
            message = await loop.run_in_executor(
                None, functools.partial(client.messages.create, to=phone, from_=self.twilio_number, body=body)
            )
        except TwilioRestException as e:
            # e.msg may quote the number: log status and code only.
            logger.error(
                "twilio_sms: Twilio refused a message to %s (HTTP %s, error %s)", redact_phone(phone), e.status, e.code
            )
            if e.code == ERROR_UNSUBSCRIBED:
                self.store.opt_out(phone, "TWILIO21610")
            return False
        except Exception as e:  # network errors, missing credentials, ...: never into Sanic
            logger.error("twilio_sms: sending a message to %s failed: %s", redact_phone(phone), type(e).__name__)
            logger.debug("twilio_sms: send failure", exc_info=True)
            return False
        logger.debug("twilio_sms: sent %s to %s", getattr(message, "sid", "?"), redact_phone(phone))
        return True


class TwilioSmsOutput(OutputChannel):
    """Sends each response straight away (agent replies via ``?output_channel=twilio_sms``)."""

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await self.sender.deliver(recipient_id, [dict(message)])

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.sender.deliver(recipient_id, [{"text": text}])

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.sender.deliver(recipient_id, [{"text": text, "buttons": buttons}])

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.sender.deliver(recipient_id, [{"image": image}])

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        await self.sender.deliver(recipient_id, [{"attachment": attachment}])

    async def send_elements(self, recipient_id: Text, elements: Iterable[Dict[Text, Any]], **kwargs: Any) -> None:
        logger.debug("twilio_sms: carousel elements not sent over SMS")

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self.sender.deliver(recipient_id, [{"custom": json_message}])


def _setting(credentials: Dict[str, Any], key: str) -> Optional[str]:
    value = credentials.get(key)
    if value is None or str(value).strip() == "":
        value = os.environ.get(ENV_VARS[key])
    return str(value).strip() if value is not None and str(value).strip() != "" else None


def _int_setting(key: str, value: Optional[str], default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"twilio_sms: {key} ({ENV_VARS[key]}) must be a whole number") from None


class TwilioSmsInput(InputChannel):
    """Twilio SMS input channel (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        max_chars = _setting(credentials, "max_chars")
        return cls(
            account_sid=_setting(credentials, "account_sid"),
            auth_token=_setting(credentials, "auth_token"),
            twilio_number=_setting(credentials, "twilio_number"),
            public_url=_setting(credentials, "public_url"),
            api_base_url=_setting(credentials, "api_base_url"),
            max_chars=_int_setting("max_chars", max_chars, sms_text.DEFAULT_MAX_CHARS),
            state_db=_setting(credentials, "state_db"),
        )

    def __init__(
        self,
        account_sid: Optional[str],
        auth_token: Optional[str],
        twilio_number: Optional[str],
        public_url: Optional[str] = None,
        api_base_url: Optional[str] = None,
        max_chars: int = sms_text.DEFAULT_MAX_CHARS,
        state_db: Optional[str] = None,
        client_factory: Optional[ClientFactory] = None,
        state_store: Optional[ChannelStateStore] = None,
    ) -> None:
        for label, url in (("public_url", public_url), ("api_base_url", api_base_url)):
            if url and urlparse(url).scheme not in ("http", "https"):
                raise ValueError(f"twilio_sms: {label} must be an http(s) URL")
        if not MAX_CHARS_RANGE[0] <= max_chars <= MAX_CHARS_RANGE[1]:
            raise ValueError(f"twilio_sms: max_chars must be between {MAX_CHARS_RANGE[0]} and {MAX_CHARS_RANGE[1]}")
        if twilio_number and not E164.match(twilio_number):
            raise ValueError("twilio_sms: twilio_number must be an E.164 number such as +14155550100")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.public_url = public_url.rstrip("/") if public_url else None
        self.store = state_store or ChannelStateStore(state_db)
        self.sender = SmsSender(
            self.store,
            twilio_number,
            client_factory or default_client_factory(account_sid, auth_token, api_base_url),
            max_chars,
        )
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._tasks = PendingTasks(self.name())
        self._state_db = state_db
        self._limiter: Optional[RateLimiter] = None

    @property
    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            self._limiter = RateLimiter.from_env(self.store.path)
        return self._limiter

    # --- Rasa hooks -----------------------------------------------------------------------------
    def get_output_channel(self) -> OutputChannel:
        return TwilioSmsOutput(self.sender)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self._validator is None:
            logger.error("twilio_sms: no auth token (TWILIO_AUTH_TOKEN): every webhook call will get 403")
        twilio_sms = Blueprint("twilio_sms_webhook", __name__)
        gc_tuning.settle_after_start(twilio_sms)  # the Rasa server's collector, once its model is loaded

        self._tasks.drain_on_stop(twilio_sms, SHUTDOWN_GRACE_S)  # accepted messages still get their replies

        @twilio_sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            try:
                return self._handle_webhook(request, on_new_message)
            except _Rejected as rejected:
                return response.text(rejected.reason, status=rejected.status)

        return twilio_sms

    async def wait_for_pending(self) -> None:
        """Waits until every message accepted so far has been answered (tests, shutdown)."""
        await self._tasks.wait()

    # --- webhook ------------------------------------------------------------------------------
    def _handle_webhook(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        params = self._parse_form(request)
        self._check_signature(request, params)
        phone, body, message_sid, num_media = self._fields(params)

        if not self.store.mark_processed(message_sid):
            logger.info("twilio_sms: %s already processed (Twilio retry): ignored", message_sid)
            return self._twiml()

        word = sms_text.keyword(body)
        if word in sms_text.OPT_OUT_KEYWORDS:
            self.store.opt_out(phone, word)
            logger.info("twilio_sms: %s: %s opted out (%s)", message_sid, redact_phone(phone), word)
            return self._twiml()
        if self.store.is_opted_out(phone):
            if word in sms_text.OPT_IN_KEYWORDS:
                self.store.opt_in(phone)
                logger.info("twilio_sms: %s: %s opted back in (%s)", message_sid, redact_phone(phone), word)
            else:
                logger.info("twilio_sms: %s: ignored, %s is opted out", message_sid, redact_phone(phone))
            return self._twiml()
        if word in sms_text.HELP_KEYWORDS:
            self._spawn(self.sender.send_notice(phone, sms_text.HELP_TEXT))
            return self._twiml()
        refused = self.limiter.check(self.name(), phone)
        if refused is not None:  # one polite SMS per window, then silence (every SMS costs)
            logger.info("twilio_sms: %s: %s over the %s rate limit", message_sid, redact_phone(phone), refused.limit)
            if refused.first:
                self._spawn(self.sender.send_notice(phone, POLITE_TEXT))
            return self._twiml()
        if not body.strip():
            reply = sms_text.MEDIA_ONLY_TEXT if num_media > 0 else sms_text.EMPTY_TEXT
            self._spawn(self.sender.send_notice(phone, reply))
            return self._twiml()

        chosen = sms_text.choose_button(body, self.store.get_buttons(phone))
        if chosen is not None:
            text = chosen["payload"]  # the bot's own payload: may legitimately be "/intent{...}"
            self.store.clear_buttons(phone)
        else:
            text = sms_text.neutralise_command(body)
            if not text:
                self._spawn(self.sender.send_notice(phone, sms_text.EMPTY_TEXT))
                return self._twiml()
        self._spawn(self._converse(on_new_message, phone, text, message_sid,
                                   agent=getattr(request.app.ctx, "agent", None)))
        return self._twiml()

    @staticmethod
    def _twiml() -> HTTPResponse:
        return response.text(EMPTY_TWIML, content_type="application/xml")

    @staticmethod
    def _parse_form(request: Request) -> _FormParams:
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE:
            raise _Rejected(415, "Unsupported Media Type")
        raw = request.body or b""
        if len(raw) > MAX_WEBHOOK_BYTES:
            raise _Rejected(413, "Payload Too Large")
        try:
            # Not request.form: Sanic drops blank values (Body="" of a media-only message), but
            # Twilio signs them, so the signature would never match.
            return _FormParams(parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise _Rejected(400, "Bad Request")

    def _signed_url(self, request: Request) -> str:
        if not self.public_url:
            return request.url
        query = f"?{request.query_string}" if request.query_string else ""
        base = self.public_url
        if urlparse(base).path.rstrip("/").endswith(request.path.rstrip("/")):
            return base + query  # public_url is the full webhook URL
        return base + request.path + query

    def _check_signature(self, request: Request, params: _FormParams) -> None:
        signature = request.headers.get(SIGNATURE_HEADER)
        if self._validator is None:
            logger.warning("twilio_sms: webhook rejected: channel has no auth token configured")
            raise _Rejected(403, "Forbidden")
        if not signature:
            logger.warning("twilio_sms: webhook rejected: no %s header (from %s)", SIGNATURE_HEADER, request.ip)
            raise _Rejected(403, "Forbidden")
        if not self._validator.validate(self._signed_url(request), params, signature):
            logger.warning(
                "twilio_sms: webhook rejected: invalid %s for %s (from %s)",
                SIGNATURE_HEADER, self._signed_url(request).split("?")[0], request.ip,
            )
            raise _Rejected(403, "Forbidden")

    @staticmethod
    def _fields(params: _FormParams) -> tuple:
        phone = params.first("From")
        body = params.first("Body")
        message_sid = params.first("MessageSid")
        try:
            num_media = int(params.first("NumMedia") or "0")
        except ValueError:
            raise _Rejected(400, "Bad Request: NumMedia")
        if not phone or not E164.match(phone):
            raise _Rejected(400, "Bad Request: From")
        if body is None and num_media <= 0:
            raise _Rejected(400, "Bad Request: Body")
        if not message_sid or not MESSAGE_SID.match(message_sid):
            raise _Rejected(400, "Bad Request: MessageSid")
        if num_media < 0:
            raise _Rejected(400, "Bad Request: NumMedia")
        return phone, body or "", message_sid, num_media

    # --- background work --------------------------------------------------------------------
    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        """Runs ``coroutine`` after the webhook has answered; failures are logged, not raised."""
        self._tasks.track(asyncio.ensure_future(coroutine), "background work")

    async def _converse(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], phone: str, text: str, message_sid: str,
        agent: Any = None,
    ) -> None:
        collector = CollectingOutputChannel()
        failed = False
        try:
            await on_new_message(
                UserMessage(
                    redact(text),  # card/bank/SSN numbers never reach the tracker, logs or packets
                    collector,
                    phone,
                    input_channel=self.name(),
                    message_id=message_sid,
                    metadata={"channel": "sms", "phone": phone},
                )
            )
        except Exception as e:
            failed = True
            logger.error("twilio_sms: %s: handling the message failed: %s", message_sid, type(e).__name__)
            logger.debug("twilio_sms: handling failure", exc_info=True)
        await self.sender.deliver(phone, collector.messages)
        if failed and not collector.messages:
            await self.sender.send_notice(phone, sms_text.ERROR_TEXT)
        elif await needs_apology(agent, phone, replied=bool(collector.messages), failed=False):
            await self.sender.send_notice(phone, TROUBLE_REACHING_ACCOUNT)  # an action failed: not silence
