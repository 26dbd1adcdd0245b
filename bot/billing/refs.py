"""Random public references such as ``REF-7KQ2M9XD``."""
from __future__ import annotations

import re
import secrets

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out on the phone
REFERENCE_LENGTH = 8
REFERENCE_RE = re.compile(r"^(REF|HND)-[A-Z0-9]{6,}$")


def new_reference(prefix: str = "REF") -> str:
    """A fresh random reference: ``PREFIX-`` and 8 uppercase letters/digits."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(REFERENCE_LENGTH))
