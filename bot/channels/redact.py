"""Redact payment-card numbers, bank account numbers and US social security numbers from what
customers type, before the message reaches Rasa (tracker store, logs, interaction log, handoff
packets, analytics all only ever see the redacted text).

Every channel (REST, web chat, SMS) calls :func:`redact` on the incoming text. What is kept: the
last four digits of a card (as on a receipt). Amounts, invoice and account numbers (INV-0142,
ACC-1001), phone numbers and postal codes are left alone.
"""
from __future__ import annotations

import re
from typing import Tuple

# 13-19 digits, optionally grouped by single spaces or dashes (4-4-4-4, 4-6-5, ...).
_CARD = re.compile(r"(?<![\w$.,])(?:\d[ -]?){12,18}\d(?![\w.,]\d)")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|social security(?: number| no\.?| #)?)\s*(?:is|:|#)?\s*(\d{9})\b")
_BANK_CONTEXT = re.compile(
    r"(?i)\b(?:bank account|account number|acct(?:\.|ount)?(?: no\.?| number| #)?|routing(?: number| no\.?)?|"
    r"checking|savings|aba)\b[^\d\n]{0,20}(\d[\d -]{5,20}\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")

CARD_MASK = "[card ending {last4}]"
SSN_MASK = "[redacted SSN]"
BANK_MASK = "[redacted bank account]"


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        n = ord(ch) - 48
        if double:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
        double = not double
    return total % 10 == 0


def _cards(text: str) -> Tuple[str, int]:
    count = 0

    def repl(match: "re.Match[str]") -> str:
        nonlocal count
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            count += 1
            return CARD_MASK.format(last4=digits[-4:])
        return match.group(0)

    return _CARD.sub(repl, text), count


def redact(text: str) -> str:
    """The text with card numbers, bank account numbers and SSNs masked."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text, _ = _cards(text)
    text = _SSN.sub(SSN_MASK, text)
    text = _SSN_CONTEXT.sub(lambda m: m.group(0).replace(m.group(1), SSN_MASK), text)
    text = _BANK_CONTEXT.sub(lambda m: m.group(0).replace(m.group(1), BANK_MASK), text)
    text = _IBAN.sub(BANK_MASK, text)
    return text
