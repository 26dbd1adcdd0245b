"""The channels' last line: a customer message that got no answer gets an honest one.

Rasa 3.6 swallows a failing custom action (action server down, crashed, timed out): the processor
logs "Encountered an exception while running action", drops the action's events and carries on,
so the customer hears nothing. A failure before that (tracker store, lock store) raises out of
``on_new_message``. Either way the channel knows only that nothing was sent. Silence is right in
one case — the conversation is paused because a person has it (handoff) — so the tracker is asked;
otherwise (or when the tracker cannot be read either) the customer gets
:data:`~bot.dialogue.replies.TROUBLE_REACHING_ACCOUNT`.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Text

from bot.dialogue.replies import TROUBLE_REACHING_ACCOUNT

logger = logging.getLogger(__name__)

__all__ = ["TROUBLE_REACHING_ACCOUNT", "needs_apology"]


async def needs_apology(agent: Optional[Any], sender_id: Text, *, replied: bool, failed: bool) -> bool:
    """Whether the channel must send the trouble message for ``sender_id``'s unanswered message."""
    if replied:
        return False
    if failed or agent is None:
        logger.warning("no reply for %s (%s): sending the trouble message", sender_id,
                       "handling failed" if failed else "no agent")
        return True
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:  # noqa: BLE001 - the tracker store is down too: still answer
        logger.exception("no reply for %s and its tracker cannot be read", sender_id)
        return True
    if tracker is not None and tracker.is_paused():
        return False  # with a person: they answer
    logger.warning("no reply for %s: an action failed, sending the trouble message", sender_id)
    return True
