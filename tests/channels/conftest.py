"""Fixtures for the SMS channel: the fake Twilio API, a stand-in for Rasa, and a live Sanic app.

The channel's blueprint is registered the way Rasa registers channels
(``rasa.core.channels.channel.register`` -> ``/webhooks/twilio_sms/...``) on a real Sanic server on
a free port, inside the test's event loop; Rasa's agent is replaced by ``FakeRasa``. Replies go
through the real ``twilio`` client to ``FakeTwilioApi``.
"""
from __future__ import annotations

import socket
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.twilio_sms import TwilioSmsInput
from tests.fakes.twilio_api import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TWILIO_NUMBER,
    FakeTwilioApi,
    inbound_sms_params,
    signed_request,
)

CUSTOMER = "+14155550101"
WEBHOOK_PATH = "/webhooks/twilio_sms/webhook"


class FakeRasa:
    """Stands in for ``app.ctx.agent``: records messages, answers with scripted responses."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.replies: List[Dict[str, Any]] = []  # sent for every message; default: an echo
        self.fail = False

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("the model fell over")
        replies = self.replies or [{"text": f"You said: {message.text}"}]
        for reply in replies:  # what rasa.core.processor does with each BotUttered
            await message.output_channel.send_response(message.sender_id, dict(reply))

    @property
    def texts(self) -> List[str]:
        return [m.text for m in self.received]


@dataclass
class SmsHarness:
    channel: TwilioSmsInput
    rasa: FakeRasa
    api: FakeTwilioApi
    app: Sanic
    base_url: str
    session: aiohttp.ClientSession
    last_status: Optional[int] = None
    last_text: str = field(default="")

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    async def post(self, data: bytes, headers: Dict[str, str], path: str = WEBHOOK_PATH) -> aiohttp.ClientResponse:
        async with self.session.post(self.base_url + path, data=data, headers=headers) as resp:
            self.last_status, self.last_text = resp.status, await resp.text()
        await self.channel.wait_for_pending()
        return resp

    async def text(
        self, body: Optional[str], from_: str = CUSTOMER, *, signed_url: Optional[str] = None, **kw: Any
    ) -> int:
        """Twilio delivering an SMS from ``from_``, signed for ``signed_url`` (default: this server)."""
        params = inbound_sms_params(from_, body, **kw)
        data, headers = signed_request(signed_url or self.webhook_url, params)
        await self.post(data, headers)
        return self.last_status  # type: ignore[return-value]

    def received(self, phone: str = CUSTOMER) -> List[str]:
        """What the customer's phone got, via the fake Twilio API."""
        return self.api.bodies_to(phone)


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as api:
        yield api


@pytest.fixture
def api(twilio_api: FakeTwilioApi) -> FakeTwilioApi:
    twilio_api.reset()
    return twilio_api


@pytest.fixture
def state_db(tmp_path: Path) -> str:
    return str(tmp_path / "channels.db")


@pytest.fixture
def make_channel(api: FakeTwilioApi, state_db: str) -> Callable[..., TwilioSmsInput]:
    def make(**overrides: Any) -> TwilioSmsInput:
        settings: Dict[str, Any] = dict(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            twilio_number=TWILIO_NUMBER,
            api_base_url=api.url,
            state_db=state_db,
        )
        settings.update(overrides)
        return TwilioSmsInput(**settings)

    return make


async def start_app(channel: TwilioSmsInput, agent: Any) -> tuple:
    # test_mode: Sanic's start-up "touchup" rewrites shared classes; in test mode it keeps the
    # originals, so several apps can start in one process.
    Sanic.test_mode = True
    app = Sanic(f"sms_test_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    await server.start_serving()
    return app, server, f"http://127.0.0.1:{port}"


async def stop_app(server: Any) -> None:
    await server.before_stop()
    await server.close()
    await server.after_stop()


@asynccontextmanager
async def running_sms(channel: TwilioSmsInput, api: FakeTwilioApi) -> AsyncIterator[SmsHarness]:
    """``channel`` served by a live Sanic app, with ``FakeRasa`` as the agent."""
    rasa = FakeRasa()
    app, server, base_url = await start_app(channel, rasa)
    try:
        async with aiohttp.ClientSession() as session:
            yield SmsHarness(channel, rasa, api, app, base_url, session)
        await channel.wait_for_pending()
    finally:
        await stop_app(server)


@pytest.fixture
async def sms(make_channel: Callable[..., TwilioSmsInput], api: FakeTwilioApi) -> AsyncIterator[SmsHarness]:
    async with running_sms(make_channel(), api) as harness:
        yield harness
