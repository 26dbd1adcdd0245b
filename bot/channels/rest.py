"""REST channel for integrations and curl, with an outbox for messages sent later (agent replies).

``POST /webhooks/rest/webhook {"sender": "...", "message": "..."}`` answers like Rasa's own REST
channel (a JSON list of bot messages), with these differences:

- bad input gets a 400 with a reason (not a JSON object, missing/oversized sender or message)
  instead of Rasa's 500, a body that is not ``Content-Type: application/json`` a 415; the client cannot choose the ``input_channel``;
- messages that are not an answer to the request — an agent's reply while the conversation is with a
  person — wait in an outbox and come first in the sender's next webhook response, or from
  ``GET /webhooks/rest/outbox?sender=...`` (polling);
- a replaced conversation's replies stay with their sender (the outbox is keyed by sender id);
- the reply is sent as soon as the bot's messages are final, before the turn's tracker save, events and
  lock release, which finish on their own (``bot.runtime.early_reply``; a turn with nothing to say is
  answered when it ends, so ``bot.channels.fallback`` still sees whether it failed);
- rate limits per sender and for the whole channel (``bot.channels.limits``): 429 with ``Retry-After``;
- only the ``customer_token`` key of the client's ``metadata`` reaches the assistant (checked there like
  any login token), and ``/intent{...}`` only as the payload of a button offered in the sender's last
  turn with buttons (``bot.channels.payloads``).
"""
from __future__ import annotations

import asyncio
import logging
import re
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import gc_tuning
from bot.channels import customer_token, payloads
from bot.channels.fallback import TROUBLE_REACHING_ACCOUNT, needs_apology
from bot.channels.limits import StatefulChannel
from bot.channels.pending import PendingTasks
from bot.channels.redact import redact
from bot.channels.state import ChannelStateStore
from bot.runtime.early_reply import ReplyCollector

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5_000
MAX_SENDER_CHARS = 128
SENDER_RULE = f"'sender' is required (1-{MAX_SENDER_CHARS} characters, not a phone number)."
SHUTDOWN_GRACE_S = 10.0  # a stopping server lets answered turns finish storing
PHONE_LIKE = re.compile(r"^\s*\+")  # the SMS channel's ids are E.164 numbers: "+14155550101"


class RestOutboxOutput(CollectingOutputChannel):
    """Where Rasa sends bot messages for a REST customer outside a request: into the outbox."""

    def __init__(self, store: ChannelStateStore) -> None:
        super().__init__()
        self.store = store

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        self.messages.append(message)
        self.store.queue_rest_message(message["recipient_id"], message)


class RestChannel(StatefulChannel, InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls((credentials or {}).get("state_db"))

    def __init__(self, state_db: Optional[str] = None) -> None:
        self._state_db = state_db
        self._turns = PendingTasks(self.name())  # turns answered and still saving

    def get_output_channel(self) -> OutputChannel:
        return RestOutboxOutput(self.store)

    async def finish_turns(self) -> None:
        """Wait for the turns that were answered and are still saving (tests, shutdown)."""
        await self._turns.wait()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("rest_with_outbox", __name__)
        gc_tuning.settle_after_start(hook)  # the Rasa server's collector, once its model is loaded

        self._turns.drain_on_stop(hook, SHUTDOWN_GRACE_S)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            sender = request.args.get("sender")
            if not _valid_sender(sender):
                return _bad(SENDER_RULE)
            if self.limiter.check("rest-outbox", sender):
                return _too_many(self.limiter.window)
            return response.json(self.store.take_rest_messages(sender))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if "json" not in (request.content_type or "").lower():
                return response.json({"error": "Send JSON (Content-Type: application/json)."}, status=415)
            payload, problem = _payload(request)
            if problem:
                return _bad(problem)
            sender = payload["sender"]
            if self.limiter.check(self.name(), sender):
                return _too_many(self.limiter.window)
            conversation = f"{self.name()}:{sender}"
            text = redact(payloads.screen(payload["message"], lambda: self.store.get_offered_payloads(conversation)))
            metadata = _trusted_metadata(payload.get("metadata"))
            queued = self.store.take_rest_messages(sender)
            collector = ReplyCollector()
            turn = asyncio.ensure_future(on_new_message(UserMessage(text, collector, sender,
                                                                    input_channel=self.name(), metadata=metadata)))
            turn.add_done_callback(collector.on_turn_done)
            failed = False
            try:
                if await collector.reply:  # final before the turn's save (bot/runtime/early_reply.py)
                    self._turns.track(turn, f"message from {sender} (after its reply)")
                else:
                    await turn
            except CancelledError:
                turn.cancel()
                failed = True
                logger.error("REST message from %s timed out", sender)
            except Exception:  # noqa: BLE001 - the customer gets what was collected, the log the trace
                failed = True
                logger.exception("REST message from %s failed", sender)
            if await needs_apology(getattr(request.app.ctx, "agent", None), sender,
                                   replied=bool(collector.messages), failed=failed):
                collector.messages.append({"recipient_id": sender, "text": TROUBLE_REACHING_ACCOUNT})
            self.store.set_offered_payloads(conversation, payloads.offered(collector.messages) or [])
            return response.json(queued + collector.messages)

        return hook


def _valid_sender(sender: Any) -> bool:
    return isinstance(sender, str) and 0 < len(sender.strip()) <= MAX_SENDER_CHARS and not _phone_like(sender)


def _phone_like(sender: str) -> bool:
    """SMS conversations are keyed by the phone number: a REST client must not post into one (and inherit
    the verification the phone on file gave), so phone-number senders are reserved for the SMS channel."""
    return bool(PHONE_LIKE.match(sender))


def _bad(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


def _too_many(window: int) -> HTTPResponse:
    return response.json({"error": "Too many messages: please wait a minute and try again."}, status=429,
                         headers={"Retry-After": str(window)})


def _trusted_metadata(metadata: Any) -> Optional[Dict[str, Any]]:
    """Only a login token passes (the assistant checks its signature); ``phone``, ``channel`` or anything
    else a client sends is dropped, so it can never be mistaken for what a channel itself vouches for."""
    if isinstance(metadata, dict) and isinstance(metadata.get(customer_token.METADATA_KEY), str):
        return {customer_token.METADATA_KEY: metadata[customer_token.METADATA_KEY]}
    return None


def _payload(request: Request) -> tuple:
    try:
        payload = request.json
    except Exception:  # noqa: BLE001 - sanic raises InvalidUsage for malformed JSON
        return None, "The body must be JSON."
    if not isinstance(payload, dict):
        return None, 'The body must be a JSON object: {"sender": "...", "message": "..."}.'
    if not _valid_sender(payload.get("sender")):
        return None, SENDER_RULE
    message = payload.get("message")
    if not isinstance(message, str):
        return None, "'message' must be a string."
    if len(message) > MAX_MESSAGE_CHARS:
        return None, f"'message' is longer than {MAX_MESSAGE_CHARS} characters."
    return payload, None


__all__: List[str] = ["RestChannel", "RestOutboxOutput"]
