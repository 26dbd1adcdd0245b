"""Whole-word, case-insensitive phrase matching that tolerates simple English inflections.

``PhraseMatcher(["sue", "lawyer", "charge back"]).find("I'm suing you")  == "sue"``

* each word of a term also matches its usual inflections: ``sue`` -> sues/sued/suing,
  ``lawyer`` -> lawyers, ``attorney`` -> attorneys, ``report`` -> reported/reporting,
  ``party`` -> parties; an all-capitals word (an acronym such as ``BBB``) only takes a plural ``s``;
* the words of a multi-word term may be separated by spaces or hyphens, or written together:
  ``charge back`` matches "chargeback", "charge-back", "charge backs";
* matches are whole words only: ``court`` does not match "courtesy";
* ``ignore`` phrases (same syntax) are blanked out first: ``human error`` stops "human" matching.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional, Pattern, Sequence, Tuple

_VOWELS = "aeiou"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _word_pattern(word: str) -> str:
    if len(word) > 1 and word.isupper() and word.isalpha():  # acronym
        return re.escape(word.lower()) + r"(?:s|'s)?"
    w = word.lower()
    esc = re.escape(w)
    if not w.isalpha() or len(w) < 3:
        return esc
    if w.endswith("e"):  # sue: sues sued suer suing; charge: charges charged charging
        stem = re.escape(w[:-1])
        return rf"(?:{esc}(?:s|d|r|rs|'s)?|{stem}(?:ing|ed|er|ers|es))"
    if w.endswith("y") and w[-2] not in _VOWELS:  # party: parties partied
        stem = re.escape(w[:-1])
        return rf"(?:{esc}(?:ing|'s)?|{stem}(?:ies|ied|ier|iers))"
    return rf"{esc}(?:s|es|ed|ing|er|ers|'s|s')?"


def term_pattern(term: str) -> str:
    """The regular expression (without boundaries) for one term."""
    words = term.split()
    if not words:
        raise ValueError("empty phrase")
    return r"[\s\-]*".join(_word_pattern(w) for w in words)


def _alternation(terms: Sequence[str]) -> Optional[Pattern[str]]:
    if not terms:
        return None
    # Longest first so "attorney general" wins over "attorney" in the reported match.
    ordered = sorted(terms, key=lambda t: -len(t))
    body = "|".join(f"(?P<t{i}>{term_pattern(t)})" for i, t in enumerate(ordered))
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w])", re.IGNORECASE)


class PhraseMatcher:
    """Finds the first configured term in a text (see the module docstring for the rules)."""

    def __init__(self, terms: Iterable[str], ignore: Iterable[str] = ()) -> None:
        self.terms: Tuple[str, ...] = tuple(t.strip() for t in terms if t and t.strip())
        self.ignore: Tuple[str, ...] = tuple(t.strip() for t in ignore if t and t.strip())
        self._ordered = sorted(self.terms, key=lambda t: -len(t))
        self._pattern = _alternation(self.terms)
        self._ignore = _alternation(self.ignore)

    def find(self, text: Optional[str]) -> Optional[str]:
        """The configured term found in ``text`` (as written in the configuration), or ``None``."""
        if not text or self._pattern is None:
            return None
        cleaned = str(text).translate(_QUOTES)
        if self._ignore is not None:
            cleaned = self._ignore.sub(lambda m: " " * len(m.group(0)), cleaned)
        match = self._pattern.search(cleaned)
        if match is None:
            return None
        index = int(match.lastgroup[1:])  # type: ignore[index]
        return self._ordered[index]

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.find(text) is not None


@lru_cache(maxsize=32)
def matcher(terms: Tuple[str, ...], ignore: Tuple[str, ...] = ()) -> PhraseMatcher:
    """A cached :class:`PhraseMatcher` (configurations are immutable, so compile once)."""
    return PhraseMatcher(terms, ignore)
