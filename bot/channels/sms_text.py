"""Pure text handling for the SMS channel: keywords, command neutralising, buttons, splitting."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa.shared.constants import INTENT_MESSAGE_PREFIX

DEFAULT_MAX_CHARS = 320

# Carrier / CTIA keywords (Twilio's defaults): the whole message, trimmed, any case.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

HELP_TEXT = (
    "Northwind Broadband billing assistant. Reply STOP to opt out. "
    "Msg&data rates may apply. Call 1-800-555-0142 for help."
)
MEDIA_ONLY_TEXT = "Thanks — I can't open pictures or files here. Could you type your question instead?"
EMPTY_TEXT = "Sorry, I didn't get any text. Could you type your question?"
ERROR_TEXT = "Sorry, something went wrong on our side. Please try again in a few minutes."


def keyword(text: Optional[str]) -> str:
    """The message as a keyword candidate: trimmed and upper-cased (compare with the sets above)."""
    return (text or "").strip().upper()


def neutralise_command(text: str) -> str:
    """Removes leading ``/`` so Rasa's ``/intent{...}`` shortcut cannot be triggered by a customer.

    Rasa strips the text (``UserMessage`` and ``YAMLStoryReader.unpack_regex_message``) and then
    checks ``startswith(INTENT_MESSAGE_PREFIX)``, so strip the same way in a loop: ``" / /greet"``
    becomes ``"greet"``. The rest of the text is kept: NLU still sees the words.
    """
    cleaned = text.strip()
    while cleaned.startswith(INTENT_MESSAGE_PREFIX):
        cleaned = cleaned[len(INTENT_MESSAGE_PREFIX):].strip()
    return cleaned


# --- buttons ------------------------------------------------------------------------------------
def button_title(button: Dict[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "").strip()


def render_buttons(text: str, buttons: List[Dict[str, Any]]) -> str:
    """``text`` plus one line "Reply 1 for <title>, 2 for <title>"."""
    options = ", ".join(f"{index} for {button_title(button)}" for index, button in enumerate(buttons, 1))
    line = f"Reply {options}"
    return f"{text.rstrip()}\n{line}" if text and text.strip() else line


_CHOICE = re.compile(r"^(?:option|choice|number|#)?\s*#?\s*(\d{1,2})\s*[.)]?$", re.IGNORECASE)
_TRAILING_PUNCTUATION = " .!?"


def choose_button(text: str, buttons: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The button a reply picks: "2", "2.", " 2 ", "2)", "option 2", "#2", or a button's exact title."""
    if not buttons:
        return None
    reply = text.strip()
    match = _CHOICE.match(reply)
    if match:
        index = int(match.group(1))
        return buttons[index - 1] if 1 <= index <= len(buttons) else None
    wanted = reply.rstrip(_TRAILING_PUNCTUATION).casefold()
    for button in buttons:
        if wanted and button_title(button).rstrip(_TRAILING_PUNCTUATION).casefold() == wanted:
            return button
    return None


# --- splitting ----------------------------------------------------------------------------------
# A boundary is whitespace after sentence-ending punctuation (optionally closed by a quote or
# bracket), or any whitespace run that contains a line break.
_BOUNDARY = re.compile(r"((?:(?<=[.!?…])|(?<=[.!?…][\"'”’)\]]))\s+|\s*\n\s*)")


def _split_words(sentence: str, max_chars: int) -> List[str]:
    pieces: List[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > max_chars:  # one "word" longer than a message (a long URL): cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= max_chars:
            current = f"{current} {word}"
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def split_message(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> List[str]:
    """Splits ``text`` into messages of at most ``max_chars`` characters.

    Messages end at sentence boundaries (or line breaks); sentences are packed greedily. A sentence
    longer than ``max_chars`` is split between words; only a single word longer than ``max_chars``
    is ever cut. Joining the parts gives the original text, modulo whitespace.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    text = text.strip()
    if not text:
        return []
    if len(text) <= max_chars:
        return [text]

    tokens = _BOUNDARY.split(text)  # sentence, separator, sentence, separator, ..., sentence
    units: List[tuple] = []  # (separator before the piece, piece)
    for position in range(0, len(tokens), 2):
        sentence = tokens[position].strip()
        if not sentence:
            continue
        separator = tokens[position - 1] if position else ""
        separator = "\n" if "\n" in separator else " "
        for index, piece in enumerate(
            [sentence] if len(sentence) <= max_chars else _split_words(sentence, max_chars)
        ):
            units.append((separator if index == 0 else " ", piece))

    parts: List[str] = []
    current = ""
    for separator, piece in units:
        if not current:
            current = piece
        elif len(current) + len(separator) + len(piece) <= max_chars:
            current = f"{current}{separator}{piece}"
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts
