"""A local fake of the Twilio REST API (sending messages) plus signed inbound-webhook builders.

``FakeTwilioApi`` is a stdlib HTTP server on 127.0.0.1 (own thread) implementing

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json

the way Twilio does for what the SMS channel uses: HTTP basic auth (account SID + auth token,
401 / error 20003 otherwise), ``To`` + ``From`` + ``Body`` form fields (400 with Twilio's error
codes otherwise), numbers that opted out at the carrier (400 / 21610), and a 201 JSON message
resource (``sid`` "SM...", ``status`` "queued"). Every accepted message is recorded.

Point the real ``twilio`` client at it with ``client.api.base_url = fake.url`` (what
``TwilioSmsInput(api_base_url=fake.url)`` does).
"""
from __future__ import annotations

import base64
import json
import math
import re
import secrets
import threading
from dataclasses import dataclass
from email.message import Message
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TWILIO_NUMBER = "+15005550006"

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def new_message_sid() -> str:
    return "SM" + secrets.token_hex(16)


def segments(body: str) -> int:
    """SMS segments Twilio would bill: GSM-7 160/153 characters, otherwise UCS-2 70/67."""
    single, multi = (160, 153) if set(body) <= _GSM7 else (70, 67)
    return 1 if len(body) <= single else math.ceil(len(body) / multi)


@dataclass(frozen=True)
class SentMessage:
    sid: str
    to: str
    from_: str
    body: str


class FakeTwilioApi:
    """``with FakeTwilioApi() as api: ... api.sent ...``"""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: List[SentMessage] = []
        self.rejected: List[Tuple[int, Optional[int]]] = []  # (HTTP status, Twilio error code)
        self.unsubscribed: Set[str] = set()
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> "FakeTwilioApi":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length") or 0)
                self._reply(*fake._handle_post(self.path, self.headers, self.rfile.read(length)))

            def do_GET(self) -> None:  # noqa: N802
                self._reply(404, fake._error(404, 20404, "The requested resource was not found"))

            def _reply(self, status: int, payload: Dict[str, object]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeTwilioApi":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.sent.clear()
            self.rejected.clear()
            self.unsubscribed.clear()

    # --- assertions -----------------------------------------------------------------------------
    def bodies_to(self, phone: str) -> List[str]:
        """What the phone ``phone`` received, in order."""
        with self._lock:
            return [m.body for m in self.sent if m.to == phone]

    # --- request handling -------------------------------------------------------------------------
    def _error(self, status: int, code: int, message: str) -> Dict[str, object]:
        with self._lock:
            self.rejected.append((status, code))
        more_info = f"https://www.twilio.com/docs/errors/{code}"
        return {"code": code, "message": message, "more_info": more_info, "status": status}

    def _authorised(self, header: Optional[str]) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _handle_post(self, path: str, headers: Message, raw: bytes) -> Tuple[int, Dict[str, object]]:
        match = _MESSAGES_PATH.match(path)
        if not match:
            return 404, self._error(404, 20404, "The requested resource was not found")
        if not self._authorised(headers.get("Authorization")) or match.group("sid") != self.account_sid:
            return 401, self._error(401, 20003, "Authenticate")
        try:
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return 400, self._error(400, 20001, "Invalid request body")
        to, from_, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return 400, self._error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to):
            return 400, self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_:
            return 400, self._error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return 400, self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return 400, self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.unsubscribed:
            return 400, self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = new_message_sid()
        with self._lock:
            self.sent.append(SentMessage(sid=sid, to=to, from_=from_, body=body))
        now = formatdate(usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return 201, {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to,
            "uri": f"{uri}.json",
        }


# --- inbound webhooks (what Twilio POSTs to the channel) -------------------------------------------
def inbound_sms_params(
    from_: str,
    body: Optional[str],
    *,
    to: str = TWILIO_NUMBER,
    account_sid: str = ACCOUNT_SID,
    message_sid: Optional[str] = None,
    media_urls: Tuple[str, ...] = (),
) -> Dict[str, str]:
    """The form fields Twilio sends for an incoming SMS/MMS (``body=None`` leaves ``Body`` out)."""
    sid = message_sid or new_message_sid()
    params = {
        "ToCountry": "US", "ToState": "CA", "ToCity": "", "ToZip": "",
        "FromCountry": "US", "FromState": "CA", "FromCity": "SAN FRANCISCO", "FromZip": "94110",
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "SmsStatus": "received",
        "NumMedia": str(len(media_urls)), "NumSegments": "1", "ReferralNumMedia": "0",
        "AccountSid": account_sid, "ApiVersion": "2010-04-01", "To": to, "From": from_,
    }
    if body is not None:
        params["Body"] = body
    for index, url in enumerate(media_urls):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = "image/jpeg"
    return params


def signature(url: str, params: Dict[str, str], auth_token: str = AUTH_TOKEN) -> str:
    """``X-Twilio-Signature`` for a POST of ``params`` to ``url``, as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, params)


def signed_request(url: str, params: Dict[str, str], auth_token: str = AUTH_TOKEN) -> Tuple[bytes, Dict[str, str]]:
    """(body, headers) of Twilio's webhook POST of ``params``, signed for ``url``."""
    return urlencode(params).encode("utf-8"), {
        "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
        "X-Twilio-Signature": signature(url, params, auth_token),
        "User-Agent": "TwilioProxy/1.1",
    }
