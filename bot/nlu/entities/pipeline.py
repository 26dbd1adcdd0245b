"""The project's own spaCy pipeline for billing entities.

``spacy.blank("en")`` (no pretrained model) with:

1. the English tokenizer, tweaked so that digit-hyphen-digit stays one token
   ("415-555-0101", "2026-10-03", "94110-1234") and e-mail addresses are never
   split;
2. ``billing_candidates``: a rule-based ``Matcher`` (patterns in
   :mod:`.patterns`) that proposes candidate spans ``"<entity>:<kind>"``;
3. ``billing_normalizer``: turns each candidate into its canonical value
   (dropping those that do not normalise, e.g. "Feb 30", "123-456-7890") and
   trims cue words ("invoice number 0142" -> value span "0142");
4. ``billing_resolver``: resolves overlaps (longest value span, then
   priority), adds a bare ZIP when the message is essentially just a 5-digit
   number, and writes ``doc.ents`` with ``span._.value`` /
   ``span._.confidence``.

Use :func:`extract` for a plain Python API.
"""
# NB: no `from __future__ import annotations`: spaCy factories need real annotations

import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Callable, Dict, List, Optional, Tuple

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex

from . import dates as D
from . import normalize as N
from . import patterns as P
from .types import Entity

CANDIDATES_EXT = "billing_candidates"
TODAY_EXT = "billing_today"

for _name, _default in ((CANDIDATES_EXT, None), (TODAY_EXT, None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)
for _name in ("value", "confidence"):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=None)


@dataclass
class Candidate:
    label: str
    kind: str
    start: int  # token indices of the (trimmed) value span
    end: int
    value: Any = None
    priority: int = 0
    confidence: float = 1.0

    @property
    def length(self) -> int:
        return self.end - self.start


# ---------------------------------------------------------------------------
# tokenizer
# ---------------------------------------------------------------------------
_DIGIT_HYPHEN_INFIX = r"(?<=[0-9])[+\-\*^](?=[0-9-])"
_EMAIL_TOKEN_RE = re.compile(
    r"^(?:mailto:)?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)


def _customize_tokenizer(nlp: Language) -> None:
    infixes = [
        r"(?<=[0-9])[+\*^](?=[0-9-])" if p == _DIGIT_HYPHEN_INFIX else p
        for p in nlp.Defaults.infixes
    ]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.tokenizer.token_match = _EMAIL_TOKEN_RE.match


# ---------------------------------------------------------------------------
# component 1: candidate matcher
# ---------------------------------------------------------------------------
@Language.factory("billing_candidates")
def make_candidate_matcher(nlp: Language, name: str) -> "CandidateMatcher":
    return CandidateMatcher(nlp, name)


class CandidateMatcher:
    """Runs the token ``Matcher`` and stores raw candidates on the doc."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.matcher = Matcher(nlp.vocab, validate=True)
        for label, kinds in P.PATTERNS.items():
            for kind, pattern_list in kinds.items():
                self.matcher.add(f"{label}:{kind}", pattern_list)

    def __call__(self, doc: Doc) -> Doc:
        raw: List[Tuple[str, int, int]] = []
        strings = doc.vocab.strings
        for match_id, start, end in self.matcher(doc):
            raw.append((strings[match_id], start, end))
        doc._.set(CANDIDATES_EXT, raw)
        return doc


# ---------------------------------------------------------------------------
# component 2: normaliser
# ---------------------------------------------------------------------------
@Language.factory("billing_normalizer", default_config={"default_currency": N.DEFAULT_CURRENCY})
def make_normalizer(nlp: Language, name: str, default_currency: str) -> "Normalizer":
    return Normalizer(name, default_currency)


_HAS_DIGIT = re.compile(r"\d")
_DAY_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$", re.I)
_CONTEXT = frozenset(P.CONTEXT_WORDS)
NOT_DATES = frozenset({"24/7", "9/11", "50/50"})


def _trim(span: Span, drop: Callable[[Any], bool]) -> Span:
    start = span.start
    while start < span.end - 1 and drop(span.doc[start]):
        start += 1
    return span.doc[start : span.end]


def _next_lower(span: Span) -> Optional[str]:
    return span.doc[span.end].lower_ if span.end < len(span.doc) else None


class Normalizer:
    """Candidate spans -> :class:`Candidate` objects with normalised values."""

    def __init__(self, name: str, default_currency: str = N.DEFAULT_CURRENCY) -> None:
        self.name = name
        self.default_currency = default_currency.upper()

    def __call__(self, doc: Doc) -> Doc:
        today = doc._.get(TODAY_EXT) or date.today()
        out: List[Candidate] = []
        for key, start, end in doc._.get(CANDIDATES_EXT) or []:
            label, kind = key.split(":", 1)
            result = self.normalize(label, kind, doc[start:end], today)
            if result is None:
                continue
            span, value = result
            out.append(
                Candidate(
                    label, kind, span.start, span.end, value,
                    P.priority(label, kind), P.confidence(label, kind),
                )
            )
        doc._.set(CANDIDATES_EXT, out)
        return doc

    # -- per entity --------------------------------------------------------
    def normalize(self, label: str, kind: str, span: Span, today: date) -> Optional[Tuple[Span, Any]]:
        handler = getattr(self, f"_{label}")
        return handler(kind, span, today)

    def _identifier(self, span: Span, fn: Callable[[str], Optional[str]]) -> Optional[Tuple[Span, Any]]:
        span = _trim(span, lambda t: not _HAS_DIGIT.search(t.text))
        if _next_lower(span) in P.QUANTITY_WORDS:
            return None  # "invoice 2 days late"
        value = fn(span.text)
        return (span, value) if value else None

    def _invoice_number(self, kind: str, span: Span, today: date):
        return self._identifier(span, N.normalize_invoice_number)

    def _account_number(self, kind: str, span: Span, today: date):
        return self._identifier(span, N.normalize_account_number)

    def _postal_code(self, kind: str, span: Span, today: date):
        span = _trim(span, lambda t: not _HAS_DIGIT.search(t.text))
        value = N.normalize_postal_code(span.text)
        return (span, value) if value else None

    def _email(self, kind: str, span: Span, today: date):
        value = N.normalize_email(span.text)
        return (span, value) if value else None

    def _phone(self, kind: str, span: Span, today: date):
        value = N.normalize_phone(span.text)
        return (span, value) if value else None

    def _amount(self, kind: str, span: Span, today: date):
        texts = [t.text for t in span]
        numeric = [t for t in texts if _HAS_DIGIT.search(t)]
        if kind == "cents":
            whole, cents = numeric
            amount = N.parse_number(whole)
            amount = None if amount is None else amount + N.Decimal(int(cents)) / 100
        elif kind == "words":
            number = N.words_to_number([t for t in texts if t.lower() not in N.CURRENCY_WORDS])
            amount = None if number is None else N.Decimal(number)
        elif len(numeric) == 1:
            raw = numeric[0]
            amount = N.parse_number(re.sub(r"[^\d.,]", "", raw))
            if amount is not None and raw.startswith("-"):
                amount = -amount
        else:
            amount = None
        if amount is None:
            return None
        currency = N.currency_for_tokens(texts, self.default_currency)
        if currency is None:
            if kind != "bare":
                return None
            currency = self.default_currency
        return span, N.make_amount(amount, currency)

    def _date(self, kind: str, span: Span, today: date):
        span = _trim(span, lambda t: t.lower_ in _CONTEXT)
        words = [t.lower_ for t in span]
        value: Optional[str] = None
        if kind == "iso":
            y, m, d = (int(x) for x in re.split(r"[-/.]", span.text))
            resolved = D.safe_date(y, m, d)
            value = resolved and D.iso(resolved)
        elif kind == "numeric":
            if span.text in NOT_DATES:
                return None
            parts = [int(x) for x in re.split(r"[-/]", span.text)]
            year = parts[2] if len(parts) == 3 else None
            resolved = D.resolve_numeric(parts[0], parts[1], year, today)
            value = resolved and D.iso(resolved)
        elif kind == "calendar":
            month = next((D.month_number(w) for w in words if D.month_number(w)), None)
            day = next((int(m.group(1)) for w in words if (m := _DAY_RE.match(w))), None)
            year = next((int(w) for w in words if len(w) == 4 and w.isdigit()), None)
            if month and day:
                resolved = D.resolve_month_day(month, day, today, year=year, future=words[0] == "next")
                value = resolved and D.iso(resolved)
        elif kind == "day_of_month":
            if _next_lower(span) in P.ORDINAL_NOUNS:
                return None  # "the 2nd charge"
            day = int(_DAY_RE.match(words[1]).group(1))
            if words[-1] == "month":
                y, m = D.resolve_relative_month(words[-2], today)
                resolved = D.safe_date(y, m, day)
            else:
                resolved = D.resolve_day_of_month(day, today)
            value = resolved and D.iso(resolved)
        elif kind == "relative_day":
            offset = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}[words[0]]
            value = D.iso(today + timedelta(days=offset))
        elif kind == "weekday":
            modifier = words[0] if len(words) == 2 else None
            value = D.iso(D.resolve_weekday(D.weekday_number(words[-1]), today, modifier))
        elif kind == "relative_month":
            value = D.iso_month(*D.resolve_relative_month(words[0], today))
        elif kind == "named_month":
            modifier = words[0] if len(words) == 2 else None
            value = D.iso_month(*D.resolve_named_month(D.month_number(words[-1]), today, modifier))
        elif kind == "month_year":
            value = D.iso_month(int(words[-1]), D.month_number(words[0]))
        elif kind == "ago":
            quantity = 1 if words[0] in ("a", "an") else (
                int(words[0]) if words[0].isdigit() else N.words_to_number([words[0]])
            )
            resolved = D.resolve_ago(quantity, words[1], today) if quantity else None
            value = resolved and D.iso(resolved)
        return (span, value) if value else None


# ---------------------------------------------------------------------------
# component 3: overlap resolution -> doc.ents
# ---------------------------------------------------------------------------
@Language.factory("billing_resolver")
def make_resolver(nlp: Language, name: str) -> "Resolver":
    return Resolver(name)


_FIVE_DIGITS = re.compile(r"^\d{5}$")
_LIST_SEPARATORS = frozenset({",", "and", "or", "&", "/"})
_LIST_ITEM = re.compile(r"^(?:inv|acc|acct)?[-#]?\d{3,12}$", re.I)  # >= 3 digits: not "and 2 others"
_NOT_ID_FOLLOWERS = P.QUANTITY_WORDS | {"other", "others", "more"}
_LIST_LABELS = {
    "invoice_number": N.normalize_invoice_number,
    "account_number": N.normalize_account_number,
}


class Resolver:
    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        candidates: List[Candidate] = doc._.get(CANDIDATES_EXT) or []
        ranked = sorted(
            candidates,
            key=lambda c: (-(doc[c.start : c.end].end_char - doc[c.start : c.end].start_char), -c.priority, c.start),
        )
        taken = [False] * len(doc)
        chosen: List[Candidate] = []
        for cand in ranked:
            if any(taken[cand.start : cand.end]):
                continue
            for i in range(cand.start, cand.end):
                taken[i] = True
            chosen.append(cand)
        chosen.extend(self._list_continuations(doc, chosen, taken))
        if not chosen:
            bare = self._bare_postal_code(doc)
            if bare is not None:
                chosen.append(bare)
        spans = []
        for cand in sorted(chosen, key=lambda c: c.start):
            span = Span(doc, cand.start, cand.end, label=cand.label)
            span._.value = cand.value
            span._.confidence = cand.confidence
            spans.append(span)
        doc.ents = spans
        doc._.set(CANDIDATES_EXT, chosen)
        return doc

    @staticmethod
    def _list_continuations(doc: Doc, chosen: List[Candidate], taken: List[bool]) -> List[Candidate]:
        """"invoices 142, 143 and 150" -> three invoice numbers (same for accounts)."""
        extra: List[Candidate] = []
        for cand in chosen:
            if cand.label not in _LIST_LABELS or cand.kind not in ("cue", "glued"):
                continue
            normalize = _LIST_LABELS[cand.label]
            i = cand.end
            while i + 1 < len(doc) and doc[i].lower_ in _LIST_SEPARATORS:
                j = i + 1
                if doc[j].text == "#" and j + 1 < len(doc):
                    j += 1
                token = doc[j]
                if taken[j] or not _LIST_ITEM.match(token.text):
                    break
                if j + 1 < len(doc) and doc[j + 1].lower_ in _NOT_ID_FOLLOWERS:
                    break
                value = normalize(token.text)
                if value is None:
                    break
                taken[j] = True
                extra.append(Candidate(cand.label, "list", j, j + 1, value, cand.priority, cand.confidence))
                i = j + 1
        return extra

    @staticmethod
    def _bare_postal_code(doc: Doc) -> Optional[Candidate]:
        """"94110" / "it's 94110" / "sure, 94110 thanks" -> postal_code.

        Only when the message is essentially just one 5-digit number (the user
        answering "what's your ZIP code?"): every other token is punctuation
        or a filler word, and no other token contains a digit.
        """
        found: Optional[int] = None
        for token in doc:
            if _FIVE_DIGITS.match(token.text):
                if found is not None:
                    return None
                found = token.i
            elif _HAS_DIGIT.search(token.text) or token.text in ("#", "$", "€", "£"):
                return None  # another number, or "#12345" (an id, not a ZIP)
            elif not (token.is_punct or token.is_space or token.lower_ in P.BARE_POSTAL_FILLER):
                return None
        if found is None:
            return None
        value = N.normalize_postal_code(doc[found].text)
        if value is None:
            return None
        return Candidate("postal_code", "bare", found, found + 1, value, 0, P.BARE_POSTAL_CONFIDENCE)


# ---------------------------------------------------------------------------
# building + plain API
# ---------------------------------------------------------------------------
def build_nlp(default_currency: str = N.DEFAULT_CURRENCY) -> Language:
    """Build the billing entity pipeline from ``spacy.blank("en")``."""
    nlp = spacy.blank("en")
    _customize_tokenizer(nlp)
    nlp.add_pipe("billing_candidates")
    nlp.add_pipe("billing_normalizer", config={"default_currency": default_currency})
    nlp.add_pipe("billing_resolver")
    return nlp


_NLP_CACHE: Dict[str, Language] = {}
_NLP_LOCK = threading.Lock()


def get_nlp(default_currency: str = N.DEFAULT_CURRENCY) -> Language:
    """Process-wide cached pipeline (building it takes ~0.1 s)."""
    key = default_currency.upper()
    with _NLP_LOCK:
        if key not in _NLP_CACHE:
            _NLP_CACHE[key] = build_nlp(key)
        return _NLP_CACHE[key]


def parse(text: str, today: Optional[date] = None, nlp: Optional[Language] = None) -> Doc:
    """Run the pipeline; ``doc.ents`` carry ``._.value`` and ``._.confidence``."""
    nlp = nlp or get_nlp()
    doc = nlp.make_doc(text)
    doc._.set(TODAY_EXT, today or date.today())
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return doc


def extract(text: str, today: Optional[date] = None, *, nlp: Optional[Language] = None) -> List[Entity]:
    """Extract billing entities from ``text``.

    ``today`` is the reference date for relative dates (default:
    ``date.today()``). Returns entities sorted by position.
    """
    if not text:
        return []
    doc = parse(text, today=today, nlp=nlp)
    return [
        Entity(
            entity=ent.label_,
            value=ent._.value,
            start=ent.start_char,
            end=ent.end_char,
            text=ent.text,
            confidence=ent._.confidence,
        )
        for ent in doc.ents
    ]
