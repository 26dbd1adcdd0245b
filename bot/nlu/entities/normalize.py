"""Pure-Python normalisers for the billing entities (no spaCy / Rasa imports).

These turn the surface text of a matched span into the canonical slot value.
Each returns ``None`` when the text cannot be normalised, which makes the
pipeline drop the candidate.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Dict, Iterable, Mapping, Optional, Sequence, Union

DEFAULT_CURRENCY = "USD"

# --------------------------------------------------------------------------
# invoice / account numbers
# --------------------------------------------------------------------------
_DIGITS_RE = re.compile(r"\d+")


def _canonical_id(prefix: str, text: str, width: int = 4) -> Optional[str]:
    """``"INV0142"``/``"#142"``/``"0142"`` -> ``"INV-0142"``.

    Leading zeros are dropped and the number re-padded to ``width`` digits;
    longer numbers (e.g. generated ``INV-1000123``) are kept as given.
    """
    digits = _DIGITS_RE.findall(text)
    if len(digits) != 1:
        return None
    number = digits[0].lstrip("0") or "0"
    if number == "0":
        return None
    return f"{prefix}-{number.zfill(width)}"


def normalize_invoice_number(text: str) -> Optional[str]:
    return _canonical_id("INV", text)


def normalize_account_number(text: str) -> Optional[str]:
    return _canonical_id("ACC", text)


# --------------------------------------------------------------------------
# amounts
# --------------------------------------------------------------------------
CURRENCY_SYMBOLS: Dict[str, Optional[str]] = {
    # None -> the configured default currency ("$" is ambiguous; USD by default)
    "$": None,
    "us$": "USD",
    "€": "EUR",
    "£": "GBP",
    "c$": "CAD",
    "ca$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
}
CURRENCY_CODES = {"usd": "USD", "eur": "EUR", "gbp": "GBP", "cad": "CAD", "aud": "AUD"}
CURRENCY_WORDS: Dict[str, Optional[str]] = {
    "dollar": None,
    "dollars": None,
    "buck": None,
    "bucks": None,
    "euro": "EUR",
    "euros": "EUR",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    **CURRENCY_CODES,
}

_NUMBER_RE = re.compile(
    r"""^(?P<sign>-)?
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)?   # 1,240 | 1240
        (?:\.(?P<frac>\d+))?$              # .00
    """,
    re.X,
)


def parse_number(text: str) -> Optional[Decimal]:
    """``"1,240.00"`` -> ``Decimal("1240.00")``; ``None`` if not a number."""
    match = _NUMBER_RE.match(text.strip())
    if not match or not (match.group("int") or match.group("frac")):
        return None
    integer = (match.group("int") or "0").replace(",", "")
    frac = match.group("frac")
    try:
        value = Decimal(f"{integer}.{frac}" if frac else integer)
    except InvalidOperation:  # pragma: no cover - regex guarantees digits
        return None
    return -value if match.group("sign") else value


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TENS) | frozenset(_SCALES)


def words_to_number(words: Sequence[str]) -> Optional[int]:
    """``["twenty", "-", "five"]`` -> 25, ``["a", "hundred"]`` -> 100.

    Handles English cardinals up to the millions ("one hundred and twenty"),
    hyphens and "and". Returns ``None`` for anything else.
    """
    total = current = 0
    seen = False
    for raw in words:
        word = raw.lower()
        if word in ("-", "and"):
            continue
        if word == "a" and not seen:
            current = 1
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        elif word in _SCALES:
            total += (current or 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen = True
    return total + current if seen else None


def make_amount(value: Decimal, currency: str) -> Dict[str, str]:
    """Canonical slot value: ``{"amount": "1240.00", "currency": "USD"}``."""
    quantized = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {"amount": str(quantized), "currency": currency.upper()}


def parse_amount(value: Union[Mapping[str, str], str, int, float, Decimal]) -> Decimal:
    """Turn an ``amount`` slot value back into a :class:`~decimal.Decimal`.

    Accepts the canonical dict (``{"amount": "1240.00", "currency": "USD"}``),
    its ``"amount"`` string, or loose text such as ``"$1,240.00"`` /
    ``"49 USD"``. Raises ``ValueError`` if no amount can be read.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Mapping):
        value = value.get("amount", "")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    text = str(value).strip()
    direct = parse_number(text)
    if direct is not None:
        return direct
    # loose text: "$1,240.00", "49 USD", "-$20"
    match = _LOOSE_NUMBER_RE.search(text)
    number = parse_number(match.group("num")) if match else None
    if number is None:
        raise ValueError(f"not an amount: {value!r}")
    return -number if match.group("neg") else number


_LOOSE_NUMBER_RE = re.compile(r"(?P<neg>-)?\D{0,3}?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)")


def amount_currency(value: Union[Mapping[str, str], str]) -> Optional[str]:
    """The ISO currency code of an ``amount`` slot value (or ``None``)."""
    if isinstance(value, Mapping):
        return value.get("currency")
    return None


def currency_for_tokens(tokens: Iterable[str], default: str = DEFAULT_CURRENCY) -> Optional[str]:
    """Currency code from the first currency symbol / word / code among tokens."""
    for token in tokens:
        low = token.lower()
        for table in (CURRENCY_SYMBOLS, CURRENCY_WORDS):
            if low in table:
                return table[low] or default
        code = re.sub(r"^[-\d.,]+", "", low)  # glued "49.00usd"
        if code in CURRENCY_CODES:
            return CURRENCY_CODES[code]
        symbol = re.sub(r"[-\d.,]+$", "", low).lstrip("-")  # glued "-$20"
        if symbol in CURRENCY_SYMBOLS:
            return CURRENCY_SYMBOLS[symbol] or default
    return None


# --------------------------------------------------------------------------
# phone / email / postal code
# --------------------------------------------------------------------------
_NANP_RE = re.compile(r"^1?([2-9]\d{2})([2-9]\d{2})(\d{4})$")


def normalize_phone(text: str) -> Optional[str]:
    """E.164: ``"(415) 555-0101"`` -> ``"+14155550101"``.

    Without a ``+`` country code the number must be a valid NANP number
    (10 digits, optional leading 1, area code and exchange not starting with
    0/1). With an explicit ``+CC`` any 8-15 digit number is accepted.
    """
    stripped = text.strip()
    digits = re.sub(r"\D", "", stripped)
    if stripped.startswith("+") and not digits.startswith("1"):
        return f"+{digits}" if 8 <= len(digits) <= 15 else None
    match = _NANP_RE.match(digits)
    if not match:
        return None
    return "+1" + "".join(match.groups())


_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)


def normalize_email(text: str) -> Optional[str]:
    candidate = text.strip().strip("<>").rstrip(".")
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[7:]
    return candidate.lower() if _EMAIL_RE.match(candidate) else None


_ZIP_RE = re.compile(r"^(\d{5})(?:[-\s]?(\d{4}))?$")


def normalize_postal_code(text: str) -> Optional[str]:
    """US ZIP ``"94110"`` or ZIP+4 ``"94110-1234"`` (canonical with a hyphen)."""
    match = _ZIP_RE.match(text.strip())
    if not match or match.group(1) == "00000":
        return None
    zip5, plus4 = match.groups()
    return f"{zip5}-{plus4}" if plus4 else zip5
