"""Card numbers (Luhn-valid), bank account numbers and SSNs are masked; billing details are not."""
from __future__ import annotations

import pytest

from bot.channels.redact import luhn_ok, redact


@pytest.mark.parametrize("text,expected", [
    ("my card 4242 4242 4242 4242 was charged", "my card [card ending 4242] was charged"),
    ("card 4111-1111-1111-1111!", "card [card ending 1111]!"),
    ("amex 378282246310005", "amex [card ending 0005]"),
    ("SSN 123-45-6789 here", "SSN [redacted SSN] here"),
    ("my social security number is 123456789", "my social security number is [redacted SSN]"),
    ("bank account number 000123456789", "bank account number [redacted bank account]"),
    ("routing no. 021000021 and checking 9876543210", "routing no. [redacted bank account] and checking "
                                                      "[redacted bank account]"),
    ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [redacted bank account]"),
])
def test_sensitive_numbers_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "I paid $1,240.00 on INV-0142", "call me at +14155550101", "ACC-1001 94110", "order 1234567890123",
    "4242424242424241 is not a card", "invoice 0142 for 49 bucks on Oct 3", "the 3rd", "",
])
def test_billing_details_and_non_cards_are_kept(text: str) -> None:
    assert redact(text) == text


def test_luhn() -> None:
    assert luhn_ok("4242424242424242") and not luhn_ok("4242424242424241")
