"""What a customer's text may be when it reaches Rasa: Rasa's ``/intent{"entity": ...}`` shortcut
only as the payload of a button the bot offered in that conversation's last turn with buttons.

The chat widget sends a button's payload as the message text, so payloads must stay possible; but a
customer typing ``/ask_balance{"account_number": "ACC-1002"}`` (or ``/inform{"offer_id": ...}``
with an id the bot never offered) must not skip NLU. Any other text loses its leading ``/`` (the
words still reach NLU), exactly as the SMS channel does with its numbered options.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, List, Optional

from bot.channels.sms_text import neutralise_command


def offered(messages: Iterable[Dict[str, Any]]) -> Optional[List[str]]:
    """The payloads of the buttons in one bot turn's messages; ``None`` when the turn had no buttons."""
    found: Optional[List[str]] = None
    for message in messages:
        if not isinstance(message, dict):
            continue
        buttons = message.get("buttons") or message.get("quick_replies") or []
        payloads = [b.get("payload") for b in buttons if isinstance(b, dict) and isinstance(b.get("payload"), str)]
        if payloads:
            found = payloads  # the last message with buttons is the choice on screen
    return found


def accept(text: str, offered_payloads: Iterable[str]) -> str:
    """``text`` if it is exactly an offered payload, else ``text`` without its leading ``/``."""
    stripped = text.strip()
    if stripped.startswith("/") and stripped in {p.strip() for p in offered_payloads}:
        return stripped
    return neutralise_command(text)


def screen(text: str, offered_payloads: Callable[[], Iterable[str]]) -> str:
    """A customer's raw text as it may reach Rasa: printable, and :func:`accept`-ed. The offered payloads
    are looked up only for text that starts with ``/`` (most messages need no read of the channel state)."""
    text = printable(text)
    return accept(text, offered_payloads() if text.lstrip().startswith("/") else ())


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    """``text`` without NUL and other control characters (PostgreSQL refuses NUL in text columns)."""
    return _CONTROL.sub("", text)
