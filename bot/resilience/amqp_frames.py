"""AMQP frames that have already arrived are read without waiting for the event loop.

aiormq 6.4.2 (pinned in requirements.txt) reads every frame from RabbitMQ through five awaits that
each go through ``asyncio.wait_for`` - the receive lock in, the 1-byte and 6-byte frame header, the
payload, the lock out - because the connection's receive timeout (its heartbeat grace) is set. On
Python 3.10 each ``wait_for`` is a new task and at least one more pass of the event loop, even when
the bytes are already in the stream's buffer. A Rasa server's loop spends most of its time in turns
that do not yield, so every frame - each publisher confirm among them - waited several turns: at
``make bench``'s c=10 the broker's confirms fell behind the events of every turn and timed out (see
bot/resilience/broker.py).

``get_frame`` here takes a frame straight from the stream's buffer when the whole frame is there
(header, payload and end byte) and nobody else is reading; otherwise it is aiormq's own, with its
timeout. The bytes and the parsing are the same (``pamqp.frame.unmarshal``); the receive timeout
only ever fired when no bytes arrived, which is not the case here.
"""
from __future__ import annotations

import asyncio
from typing import Any, Optional

import pamqp.frame
from aiormq.connection import FrameReceiver

HEADER_BYTES = 7  # type (1), channel (2), payload size (4)
_ORIGINAL = FrameReceiver.get_frame


def take_buffered_frame(reader: asyncio.StreamReader) -> Optional[bytes]:
    """One whole frame (header + payload + end byte) from the reader's buffer, or ``None``."""
    buffer: bytearray = reader._buffer  # type: ignore[attr-defined]
    if len(buffer) < HEADER_BYTES:
        return None
    end = HEADER_BYTES + int.from_bytes(buffer[3:HEADER_BYTES], "big") + 1
    if len(buffer) < end:
        return None
    data = bytes(buffer[:end])
    del buffer[:end]
    reader._maybe_resume_transport()  # type: ignore[attr-defined]
    return data


async def get_frame(self: FrameReceiver) -> Any:
    """``FrameReceiver.get_frame``, without waiting when the frame is in the buffer."""
    reader = getattr(self, "reader", None)
    if reader is not None and self.started and not self.lock.locked():
        data = take_buffered_frame(reader)
        if data is not None:
            return pamqp.frame.unmarshal(data)
    return await _ORIGINAL(self)


def install() -> None:
    FrameReceiver.get_frame = get_frame  # type: ignore[assignment]


def uninstall() -> None:
    FrameReceiver.get_frame = _ORIGINAL  # type: ignore[assignment]


__all__ = ["get_frame", "install", "take_buffered_frame", "uninstall"]
