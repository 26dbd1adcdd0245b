"""Many messages published on an aiormq channel in one write, each with its own confirmation.

aiormq's ``Channel.basic_publish`` (aiormq 6.4.2, pinned in requirements.txt) sends one message per
call: it takes the channel's lock, numbers the message (its delivery tag, by which RabbitMQ confirms
it), queues its frames on the connection's write queue - which holds 10 entries - and waits for the
confirmation. A busy event loop that gets round to the writer only between turns moves about ten
messages per pass that way, fewer than a turn publishes.

``publish_batch`` does what ``basic_publish`` does for each message - the delivery tag, the
confirmation future, the ``message_id`` that a returned (unroutable, ``mandatory``) message is matched
by - under one hold of the lock, and queues all the frames as one entry: one pass of the writer, one
socket write. It returns the confirmations in the order of the messages; each resolves to
``Basic.Ack`` or ``Basic.Nack``, or fails as ``basic_publish`` would (a returned message, a closed
channel). ``tests/faults/test_broker.py`` checks it against the real RabbitMQ.
"""
from __future__ import annotations

import asyncio
from random import getrandbits
from typing import List, Sequence, Tuple
from uuid import UUID

from aiormq.abc import ChannelFrame
from aiormq.channel import Channel
from pamqp import commands as spec
from pamqp.header import ContentHeader

Message = Tuple[bytes, spec.Basic.Properties]


async def publish_batch(channel: Channel, exchange: str, messages: Sequence[Message],
                        routing_key: str = "", mandatory: bool = True) -> List["asyncio.Future[object]"]:
    """Queues ``messages`` on a channel in confirm mode; their confirmations, in order."""
    if not channel.publisher_confirms:
        raise ValueError("publish_batch needs a channel with publisher confirms")
    confirmations: List["asyncio.Future[object]"] = []
    frames: list = []
    async with channel.lock:
        for body, properties in messages:
            if not properties.message_id:  # as basic_publish: returns are matched by message_id
                properties.message_id = UUID(int=getrandbits(128), version=4).hex
            channel.delivery_tag += 1
            tag = channel.delivery_tag
            confirmation = channel.confirmations.get(tag)
            if confirmation is None:
                confirmation = channel.confirmations[tag] = channel.create_future()
            message_id = properties.message_id
            channel.message_id_delivery_tag[message_id] = tag
            confirmation.add_done_callback(
                lambda _, message_id=message_id: channel.message_id_delivery_tag.pop(message_id, None))
            confirmations.append(confirmation)
            frames.append(spec.Basic.Publish(exchange=exchange, routing_key=routing_key, mandatory=mandatory))
            frames.append(ContentHeader(properties=properties, body_size=len(body)))
            frames.extend(channel._split_body(body))
        await channel.write_queue.put(ChannelFrame(frames=frames, channel_number=channel.number))
    return confirmations


__all__ = ["Message", "publish_batch"]
