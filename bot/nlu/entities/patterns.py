"""spaCy ``Matcher`` token patterns for the billing entities.

Every pattern is registered under a key ``"<entity>:<kind>"``; ``kind`` tells
the normaliser how to read the matched tokens. ``PRIORITY`` breaks ties
between overlapping candidates whose value spans have the same length
(e.g. ``invoice 4155550101`` is an invoice number, not a phone).
"""
from __future__ import annotations

from typing import Dict, List

from .dates import MONTHS, WEEKDAYS
from .normalize import CURRENCY_CODES, CURRENCY_SYMBOLS, CURRENCY_WORDS, NUMBER_WORDS

Pattern = List[Dict]

# --------------------------------------------------------------------------
# token-level building blocks (REGEX is matched with re.search -> anchor it)
# --------------------------------------------------------------------------
ID_NUM = {"TEXT": {"REGEX": r"^\d{1,12}$"}}
OPT_HASH = {"TEXT": {"IN": ["#", ":"]}, "OP": "?"}
QUALIFIERS = ["number", "num", "no", "no.", "nr", "nr.", "nbr", "id", "ref", "reference", "#"]
QUAL = {"LOWER": {"IN": QUALIFIERS}}
OPT_DOT = {"TEXT": ".", "OP": "?"}
OPT_IS = {"LOWER": {"IN": ["is", "was", ":", "#"]}, "OP": "?"}
QUAL_GLUED_NUM = {"LOWER": {"REGEX": r"^(?:no|nr|num|#)[.:#]?\d{1,12}$"}}

INVOICE_CUES = ["invoice", "invoices", "inv", "inv.", "invoice#"]
ACCOUNT_CUES = ["account", "accounts", "acct", "acct.", "acc", "acc."]

AMOUNT_NUM = {"TEXT": {"REGEX": r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$"}}
CURRENCY_SYMBOL = {"LOWER": {"IN": sorted(CURRENCY_SYMBOLS)}}
CURRENCY_WORD = {"LOWER": {"IN": sorted(set(CURRENCY_WORDS) | {"€", "$", "£"})}}
CURRENCY_CODE = {"LOWER": {"IN": sorted(CURRENCY_CODES)}}
_SYM_RE = r"(?:us|ca|c|au|a)?[$€£]"
_NUM_RE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?"
_CODE_RE = "(?:" + "|".join(sorted(CURRENCY_CODES)) + ")"
AMOUNT_GLUED = {
    "LOWER": {"REGEX": rf"^-?{_SYM_RE}{_NUM_RE}$|^{_NUM_RE}{_CODE_RE}$|^{_CODE_RE}{_NUM_RE}$"}
}
AMOUNT_BARE = {"TEXT": {"REGEX": r"^\d{1,3}(?:,\d{3})+(?:\.\d{2})?$|^\d+\.\d{2}$"}}
NUM_WORD_START = {"LOWER": {"IN": sorted(NUMBER_WORDS | {"a"})}}
NUM_WORD_CONT = {"LOWER": {"IN": sorted(NUMBER_WORDS | {"-", "and"})}, "OP": "*"}

ALL_MONTHS = sorted({m for m in MONTHS} | {m + "." for m in MONTHS if len(m) <= 4})
# "may" / "march" are too ambiguous as verbs without a day or a context word
BARE_MONTHS = [
    "january", "february", "april", "june", "july", "august",
    "september", "october", "november", "december",
]
DAY = {"LOWER": {"REGEX": r"^(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?$"}}
ORDINAL_DAY = {"LOWER": {"REGEX": r"^(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)$"}}
YEAR = {"TEXT": {"REGEX": r"^(?:19|20)\d{2}$"}}
OPT_COMMA = {"TEXT": ",", "OP": "?"}
OPT_THE = {"LOWER": "the", "OP": "?"}
VERB_MONTHS = ["may", "march", "mar", "mar."]
UNAMBIGUOUS_MONTHS = [m for m in ALL_MONTHS if m not in VERB_MONTHS]
MONTH = {"LOWER": {"IN": ALL_MONTHS}}
MONTH_NOT_MAY = {"LOWER": {"IN": [m for m in ALL_MONTHS if m != "may"]}}
DATE_MODIFIERS = ["last", "past", "previous", "this", "next", "coming", "current"]
OPT_NEXT = {"LOWER": {"IN": ["next", "this"]}, "OP": "?"}
CONTEXT_WORDS = ["in", "during", "since", "for", "of", "on", "from", "until", "till", "by"]
FULL_WEEKDAYS = sorted(w for w in WEEKDAYS if w.endswith("day"))
ALL_WEEKDAYS = sorted(set(WEEKDAYS) | {w + "." for w in WEEKDAYS if len(w) <= 5})

D3 = {"TEXT": {"REGEX": r"^\d{3}$"}}
D4 = {"TEXT": {"REGEX": r"^\d{4}$"}}
OPT_PLUS1 = {"TEXT": {"REGEX": r"^\+?1$"}, "OP": "?"}
PHONE_TOKEN = {"TEXT": {"REGEX": r"^\+?(?:1[-.]?)?\d{3}[-.]\d{3}[-.]\d{4}$|^\+?1?\d{10}$|^\+\d{8,15}$"}}

ZIP_TOKEN = {"TEXT": {"REGEX": r"^\d{5}(?:-\d{4})?$"}}
ZIP_CUES = ["zip", "zipcode", "zip-code", "postcode", "postal", "post-code"]
ZIP_FILLER = {"LOWER": {"IN": ["code", "is", ":", "'s", "number", "#", "-", "was"]}, "OP": "*"}


def _cue_id_patterns(cues: List[str], glued_regex: str) -> Dict[str, List[Pattern]]:
    cue = {"LOWER": {"IN": cues}}
    return {
        "glued": [[{"LOWER": {"REGEX": glued_regex}}]],
        "cue": [
            # invoice 142 / invoice #142 / inv 142 / invoice: 142
            [cue, OPT_DOT, OPT_HASH, ID_NUM],
            # invoice number 0142 / invoice no. 142 / invoice number is #142
            [cue, QUAL, OPT_DOT, OPT_IS, OPT_HASH, ID_NUM],
            # invoice no.142
            [cue, QUAL_GLUED_NUM],
        ],
    }


PATTERNS: Dict[str, Dict[str, List[Pattern]]] = {
    "invoice_number": {
        **_cue_id_patterns(INVOICE_CUES, r"^inv(?:oice)?[-#._]?\d{1,12}$"),
        "bill": [[{"LOWER": "bill"}, QUAL, OPT_DOT, OPT_IS, OPT_HASH, ID_NUM]],
    },
    "account_number": _cue_id_patterns(ACCOUNT_CUES, r"^(?:acc|acct|account)[-#._]?\d{1,12}$"),
    "amount": {
        "symbol": [
            [CURRENCY_SYMBOL, AMOUNT_NUM, {**CURRENCY_CODE, "OP": "?"}],  # $1,240.00 / $49 USD
            [CURRENCY_CODE, CURRENCY_SYMBOL, AMOUNT_NUM],  # USD $49
        ],
        "word": [[AMOUNT_NUM, CURRENCY_WORD]],  # 1240 dollars / 49 bucks / 49.00 USD / 20 €
        "cents": [[  # 49 dollars and 99 cents
            {"TEXT": {"REGEX": r"^(?:\d{1,3}(?:,\d{3})+|\d+)$"}},
            {"LOWER": {"IN": ["dollar", "dollars", "buck", "bucks", "euro", "euros"]}},
            {"LOWER": "and", "OP": "?"},
            {"TEXT": {"REGEX": r"^\d{1,2}$"}},
            {"LOWER": {"IN": ["cent", "cents"]}},
        ]],
        "code": [[CURRENCY_CODE, AMOUNT_NUM]],  # USD 49
        "glued": [[AMOUNT_GLUED]],  # -$20 / 49.00USD
        "words": [[NUM_WORD_START, NUM_WORD_CONT, CURRENCY_WORD]],  # twenty-five dollars
        "bare": [[AMOUNT_BARE]],  # 1,240 / 49.99 (no currency cue: default currency)
    },
    "date": {
        "iso": [[{"TEXT": {"REGEX": r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$"}}]],
        "numeric": [
            [{"TEXT": {"REGEX": r"^\d{1,2}/\d{1,2}(?:/(?:\d{2}|\d{4}))?$|^\d{1,2}-\d{1,2}-(?:\d{2}|\d{4})$"}}]
        ],
        "calendar": [
            [OPT_NEXT, MONTH, OPT_THE, DAY, OPT_COMMA, YEAR],  # Oct 3, 2026
            [OPT_NEXT, MONTH, OPT_THE, DAY],  # Oct 3 / October 3rd / next Oct 3
            [OPT_NEXT, OPT_THE, DAY, MONTH_NOT_MAY, OPT_COMMA, YEAR],  # 3 Oct 2026
            [OPT_NEXT, OPT_THE, DAY, MONTH_NOT_MAY],  # 3 Oct
            [OPT_NEXT, OPT_THE, DAY, {"LOWER": "of"}, MONTH],  # the 3rd of May
            [OPT_THE, DAY, {"LOWER": "of"}, MONTH, OPT_COMMA, YEAR],
        ],
        "day_of_month": [
            [{"LOWER": "the"}, ORDINAL_DAY],  # the 3rd
            [{"LOWER": "the"}, ORDINAL_DAY, {"LOWER": "of"},
             {"LOWER": {"IN": DATE_MODIFIERS}}, {"LOWER": "month"}],  # the 3rd of last month
        ],
        "relative_day": [[{"LOWER": {"IN": ["today", "yesterday", "tomorrow", "tonight"]}}]],
        "weekday": [
            [{"LOWER": {"IN": DATE_MODIFIERS}}, {"LOWER": {"IN": ALL_WEEKDAYS}}],  # last Tuesday
            [{"LOWER": {"IN": FULL_WEEKDAYS}}],  # (on) Tuesday
        ],
        "relative_month": [[{"LOWER": {"IN": DATE_MODIFIERS}}, {"LOWER": "month"}]],
        "named_month": [
            # in Oct / last October / since September
            [{"LOWER": {"IN": DATE_MODIFIERS + CONTEXT_WORDS}}, {"LOWER": {"IN": UNAMBIGUOUS_MONTHS}}],
            # "may"/"march" only after a strong cue ("in may", not "this may be wrong")
            [{"LOWER": {"IN": ["in", "during", "since", "last", "until", "till", "from"]}},
             {"LOWER": {"IN": VERB_MONTHS}}],
            [{"LOWER": {"IN": BARE_MONTHS}}],  # October
        ],
        "month_year": [[MONTH, OPT_COMMA, YEAR]],  # October 2026
        "ago": [[
            {"LOWER": {"REGEX": r"^(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)$"}},
            {"LOWER": {"REGEX": r"^(?:day|week|month|year)s?$"}},
            {"LOWER": "ago"},
        ]],
    },
    "email": {"email": [[{"LIKE_EMAIL": True}]]},
    "phone": {
        "phone": [
            [OPT_PLUS1, PHONE_TOKEN],  # 415-555-0101 / 4155550101 / +14155550101
            [OPT_PLUS1, {"TEXT": "("}, D3, {"TEXT": ")"}, {"TEXT": {"REGEX": r"^\d{3}[-.]?\d{4}$"}}],
            [OPT_PLUS1, {"TEXT": "("}, D3, {"TEXT": ")"}, D3, {"TEXT": {"IN": ["-", "."]}, "OP": "?"}, D4],
            [OPT_PLUS1, {"TEXT": "("}, {"TEXT": {"REGEX": r"^\d{3}\)\d{3}[-.]?\d{4}$"}}],  # (415)555-0101
            [OPT_PLUS1, D3, D3, D4],  # +1 415 555 0101
            [OPT_PLUS1, D3, {"TEXT": {"REGEX": r"^\d{3}[-.]\d{4}$"}}],  # 415 555-0101
        ],
        "international": [
            [{"TEXT": {"REGEX": r"^\+\d{1,3}$"}},
             {"TEXT": {"REGEX": r"^\(?\d{1,5}\)?$|^\d{1,5}[-.]\d{1,5}$"}, "OP": "+"}],
        ],
    },
    "postal_code": {
        "cue": [
            [{"LOWER": {"IN": ZIP_CUES}}, ZIP_FILLER, ZIP_TOKEN],  # zip 94110 / postcode is 02134
            [{"LOWER": "post"}, {"LOWER": "code"}, ZIP_FILLER, ZIP_TOKEN],
        ],
        "zip4": [[{"TEXT": {"REGEX": r"^\d{5}-\d{4}$"}}]],  # bare ZIP+4
    },
}

# Higher wins when two overlapping candidates have equally long value spans.
PRIORITY = {
    ("email", "email"): 100,
    ("invoice_number", "glued"): 95,
    ("account_number", "glued"): 95,
    ("invoice_number", "cue"): 90,
    ("invoice_number", "bill"): 90,
    ("account_number", "cue"): 90,
    ("postal_code", "cue"): 85,
    ("amount", "symbol"): 80,
    ("amount", "word"): 80,
    ("amount", "cents"): 80,
    ("amount", "code"): 80,
    ("amount", "glued"): 80,
    ("amount", "words"): 80,
    ("date", "*"): 70,
    ("phone", "*"): 60,
    ("amount", "bare"): 30,
    ("postal_code", "zip4"): 20,
}

CONFIDENCE = {
    ("amount", "bare"): 0.8,
    ("postal_code", "zip4"): 0.9,
}
BARE_POSTAL_CONFIDENCE = 0.7


def priority(label: str, kind: str) -> int:
    return PRIORITY.get((label, kind), PRIORITY.get((label, "*"), 50))


def confidence(label: str, kind: str) -> float:
    return CONFIDENCE.get((label, kind), 1.0)


# Words that, right after a cue-based number, show it is a quantity
# ("invoice 2 days late", "account 3 months overdue"), not an identifier.
QUANTITY_WORDS = frozenset(
    """day days week weeks month months year years time times hour hours minute minutes
    dollar dollars buck bucks cents percent % item items question questions charge charges
    invoice invoices payment payments""".split()
)

# Nouns that make "the 3rd ..." an ordinal, not a day of month ("the 2nd charge").
ORDINAL_NOUNS = frozenset(
    """invoice invoices charge charges bill bills payment payments time times one ones item items
    line lines transaction transactions month months week weeks year years quarter statement
    statements account accounts call calls email emails attempt attempts option question
    questions person party floor row page entry entries fee fees order orders subscription plan
    reminder notice letter message try installment installments digit digits number""".split()
)

# Tokens allowed around a bare 5-digit answer to "what's your ZIP?"
BARE_POSTAL_FILLER = frozenset(
    """it it's its is 's my the zip code postal postcode zipcode sure yes yeah yep ok okay
    thanks thank you here that's that please i i'm am 'm in at live hi hello so um uh oh ah
    and mine area of""".split()
)
