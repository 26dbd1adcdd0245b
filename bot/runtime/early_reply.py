"""A REST customer's reply leaves as soon as the bot has decided it, not after the bookkeeping.

Rasa 3.6's ``MessageProcessor.handle_message`` runs the prediction loop (the bot's messages are
final once it ends), then saves the tracker, publishes the turn's events, and only then returns to
the channel, which releases the conversation's lock and answers the HTTP request. Streaming
channels (SMS, the web widget's socket) have sent their messages during the loop already; a REST
customer waits for the tracker store's ``INSERT``, the broker and the lock store's release as well.

Here, for every channel:

- **the NLU parse runs before the conversation's lock is taken** (``Agent.handle_message``): the
  parse does not read the tracker (the processor parses with an empty one when it has none, and
  Rasa's processor skips its own parse for a message that carries ``parse_data``), so a message that
  arrives while its conversation's previous turn is still being saved - on this server or another
  replica - spends that time parsing instead of waiting;
- **after the prediction loop** an output channel with an ``on_reply_ready`` method (the REST
  channel's :class:`ReplyCollector`) is told that its messages are final, and the processor lets the
  event loop run once, so the channel's response is written before the save. The save, the events
  and the lock's release follow as before, in the same task: the next message of the conversation
  still waits for the lock, and so sees every event of this turn.

A failure after the reply (the tracker store down: Rasa's ``FailSafeTrackerStore`` logs it and
carries on, as for every channel) is logged by the channel; a turn with nothing to say, or one that
fails before its reply, is answered after the whole turn as before (``bot.channels.fallback``).

Because a reply can now reach the client before its turn is stored, the HTTP API's
``GET /conversations/<id>/tracker`` (``fetch_full_tracker_with_initial_session``, used by nothing else)
reads under the conversation's lock, on whichever replica it lands: it waits for a turn in flight,
so a client that got its reply always reads that turn (Rasa reads without the lock, racing with
streaming channels' turns and creating a new conversation's session unlocked).
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Text

from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.trackers import DialogueStateTracker

_ORIGINAL_HANDLE = Agent.handle_message
_ORIGINAL_LOOP = MessageProcessor._run_prediction_loop
_ORIGINAL_FULL_TRACKER = MessageProcessor.fetch_full_tracker_with_initial_session


class ReplyCollector(CollectingOutputChannel):
    """Collects the bot's messages, and resolves :attr:`reply` once they are final (or the turn ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.reply: "asyncio.Future[bool]" = asyncio.get_running_loop().create_future()

    @classmethod
    def name(cls) -> Text:
        return "collector"

    def on_reply_ready(self) -> bool:
        """The prediction loop ended: resolve :attr:`reply` (True) if there is something to send."""
        if self.messages and not self.reply.done():
            self.reply.set_result(True)
            return True
        return False

    def on_turn_done(self, _: "asyncio.Future[Any]") -> None:
        if not self.reply.done():
            self.reply.set_result(False)


async def handle_message(self: Agent, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
    processor = self.processor
    if (message.parse_data is None and processor is not None and processor.http_interpreter is None
            and self.is_ready()):
        message.parse_data = await processor.parse_message(message)
    return await _ORIGINAL_HANDLE(self, message)


async def _run_prediction_loop(self: MessageProcessor, output_channel: OutputChannel,
                               tracker: DialogueStateTracker) -> None:
    await _ORIGINAL_LOOP(self, output_channel, tracker)
    ready = getattr(output_channel, "on_reply_ready", None)
    if ready is not None and ready():
        await asyncio.sleep(0)  # the channel's task, woken by the reply, runs before the save


async def fetch_full_tracker_with_initial_session(self: MessageProcessor, conversation_id: Text,
                                                  output_channel: Optional[OutputChannel] = None,
                                                  metadata: Optional[Dict] = None) -> DialogueStateTracker:
    async with self.lock_store.lock(conversation_id or DEFAULT_SENDER_ID):
        return await _ORIGINAL_FULL_TRACKER(self, conversation_id, output_channel, metadata)


def install() -> None:
    Agent.handle_message = handle_message  # type: ignore[assignment]
    MessageProcessor._run_prediction_loop = _run_prediction_loop  # type: ignore[assignment]
    MessageProcessor.fetch_full_tracker_with_initial_session = (  # type: ignore[assignment]
        fetch_full_tracker_with_initial_session)


def uninstall() -> None:
    Agent.handle_message = _ORIGINAL_HANDLE  # type: ignore[assignment]
    MessageProcessor._run_prediction_loop = _ORIGINAL_LOOP  # type: ignore[assignment]
    MessageProcessor.fetch_full_tracker_with_initial_session = _ORIGINAL_FULL_TRACKER  # type: ignore[assignment]


__all__ = ["ReplyCollector", "install", "uninstall"]
