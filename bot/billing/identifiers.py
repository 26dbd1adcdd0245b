"""Normalise what customers type into the identifiers the ledger stores.

* invoice numbers: ``"inv 142"``, ``"INV0142"``, ``"invoice #142"``, ``"0142"`` -> ``"INV-0142"``
  (at least four digits; generated invoices have seven: ``INV-1000000`` and up)
* account numbers: ``"acc 1001"``, ``"ACC1001"``, ``"account 1001"``, ``"1001"`` -> ``"ACC-1001"``
* phones: ``"(415) 555-0101"``, ``"415.555.0101"``, ``"+1 415 555 0101"`` -> ``"+14155550101"``
  (E.164; ten-digit numbers are taken as US/Canada numbers)
* emails: trimmed and lower-cased; postal codes: trimmed, upper-cased, ZIP+4 cut to five digits.
"""
from __future__ import annotations

import re
from typing import Optional

_INVOICE_RE = re.compile(r"^\s*(?:inv(?:oice)?)?\s*(?:no\.?|number|nr\.?)?\s*[-#:.]?\s*(\d{1,9})\s*$", re.I)
_ACCOUNT_RE = re.compile(r"^\s*(?:acc(?:ount|t)?)?\s*(?:no\.?|number|nr\.?)?\s*[-#:.]?\s*(\d{1,9})\s*$", re.I)
_E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_invoice_number(text: Optional[str]) -> Optional[str]:
    """``"inv 142"`` -> ``"INV-0142"``; ``None`` if ``text`` is not an invoice number."""
    if not text:
        return None
    match = _INVOICE_RE.match(str(text))
    if not match:
        return None
    return f"INV-{int(match.group(1)):04d}"


def normalise_account_number(text: Optional[str]) -> Optional[str]:
    """``"acc 1001"`` -> ``"ACC-1001"``; ``None`` if ``text`` is not an account number."""
    if not text:
        return None
    match = _ACCOUNT_RE.match(str(text))
    if not match:
        return None
    return f"ACC-{int(match.group(1)):04d}"


def looks_like_invoice(text: str) -> bool:
    """True if ``text`` says "inv..." explicitly."""
    return bool(re.match(r"^\s*inv", text, re.I)) and normalise_invoice_number(text) is not None


def looks_like_account(text: str) -> bool:
    """True if ``text`` says "acc..." explicitly."""
    return bool(re.match(r"^\s*acc", text, re.I)) and normalise_account_number(text) is not None


def normalise_phone(text: Optional[str], default_country_code: str = "1") -> Optional[str]:
    """A phone number in E.164 (``+14155550101``), or ``None`` if it cannot be one."""
    if not text:
        return None
    raw = str(text).strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        candidate = "+" + digits
    elif len(digits) == 10:
        candidate = f"+{default_country_code}{digits}"
    elif len(digits) == 11 and digits.startswith(default_country_code):
        candidate = "+" + digits
    else:
        return None
    return candidate if _E164_RE.match(candidate) else None


def normalise_email(text: Optional[str]) -> Optional[str]:
    """Trimmed, lower-case email, or ``None`` if it does not look like one."""
    if not text:
        return None
    email = str(text).strip().lower()
    return email if _EMAIL_RE.match(email) else None


def normalise_postal_code(text: Optional[str]) -> Optional[str]:
    """Trimmed, upper-case postal code; US ZIP+4 (``94110-1234``) becomes ``94110``."""
    if not text:
        return None
    code = re.sub(r"\s+", " ", str(text).strip().upper())
    match = re.match(r"^(\d{5})-?\d{4}$", code)
    return match.group(1) if match else (code or None)
