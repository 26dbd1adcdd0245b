"""Text normalisation and feature extraction shared by training and inference.

Everything here is plain Python + ``re`` so that a single message can be turned
into features in well under a millisecond, and so that training (which hands
these functions to scikit-learn as analyzers) and inference use exactly the same
code.
"""
from __future__ import annotations

import math
import re
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"@\w+")
_ELONGATED = re.compile(r"(.)\1{2,}")
_ELONGATED_LETTER = re.compile(r"([A-Za-z])\1{2,}")
_WHITESPACE = re.compile(r"\s+")
# words (with inner apostrophes), runs of !/?, and single non-ASCII symbols (emoji)
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[!?]+|[^\w\s\x00-\x7f]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_LETTERS_UPPER = re.compile(r"[A-Z]")
_LETTERS = re.compile(r"[A-Za-z]")
_CAPS_WORD = re.compile(r"\b[A-Z][A-Z']{2,}\b")
_EXCLAMATION_RUN = re.compile(r"!{2,}")
_INTERROBANG = re.compile(r"[!?]*(?:\?!|!\?)[!?]*")

# Acronyms that are written in capitals without any shouting intent.
_NEUTRAL_ACRONYMS = frozenset(
    """ATM PIN SMS USD EUR GBP VAT PDF IBAN SWIFT BIC FAQ ETA ASAP USA NYC API
    URL CEO IRS DVD TV NFL NBA UK EU OK LOL LMAO IMO IMHO TIL AMA OP""".split()
)

# Swearing / abuse markers; also the SMS forms customers use ("wtf", "ffs").
PROFANITY = frozenset(
    """fuck fucking fucked fucker fuckers motherfucker fck fk fkn fking fuk fuking
    shit shitty bullshit bs crap crappy damn dammit goddamn wtf wth ffs omfg stfu
    gtfo piss pissed pissing asshole assholes arse dick dicks prick bastard
    bastards bitch bitches screw screwed sucks suck idiot idiots idiotic moron
    morons stupid dumb dumbass jerk jerks scam scammers scammed rip ripoff
    thieves thief robbery robbing""".split()
)

NEGATORS = frozenset(
    """not no never nothing nobody none nor neither cannot can't cant won't wont
    don't dont doesn't doesnt didn't didnt isn't isnt wasn't wasnt aren't arent
    weren't werent haven't havent hasn't hasnt hadn't hadnt shouldn't shouldnt
    wouldn't wouldnt couldn't couldnt ain't aint without""".split()
)

DENSE_FEATURES: Tuple[str, ...] = (
    "lex_pos",
    "lex_neg",
    "lex_neg_max",
    "lex_pos_max",
    "caps_ratio",
    "caps_words",
    "shouting",
    "exclamations",
    "exclamation_run",
    "interrobang",
    "questions",
    "profanity",
    "elongation",
    "length",
)


def normalise(text: str) -> str:
    """Lower-cased, whitespace-collapsed text used for all n-gram features."""
    text = text.translate(_APOSTROPHES)
    text = _URL.sub(" http ", text)
    text = _MENTION.sub("@user", text)
    text = _ELONGATED.sub(r"\1\1\1", text)
    return _WHITESPACE.sub(" ", text).strip().lower()


def word_tokens(normalised: str) -> List[str]:
    """Tokens of already normalised text: words, ``!``/``?`` runs, emoji."""
    return _TOKEN.findall(normalised)


def word_ngrams(normalised: str, ngram_range: Tuple[int, int] = (1, 2)) -> List[str]:
    """Word n-grams (joined with a space) of already normalised text."""
    tokens = word_tokens(normalised)
    low, high = ngram_range
    grams: List[str] = []
    if low <= 1:
        grams.extend(tokens)
    n_tokens = len(tokens)
    for n in range(max(low, 2), high + 1):
        for i in range(n_tokens - n + 1):
            grams.append(" ".join(tokens[i : i + n]))
    return grams


def char_ngrams(normalised: str, ngram_range: Tuple[int, int] = (2, 5)) -> List[str]:
    """Character n-grams inside space-padded words (like sklearn's ``char_wb``)."""
    low, high = ngram_range
    grams: List[str] = []
    for word in normalised.split(" "):
        if not word:
            continue
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if n > length:
                break
            for i in range(length - n + 1):
                grams.append(padded[i : i + n])
    return grams


def _squash(x: float, scale: float) -> float:
    """Map a non-negative magnitude to [0, 1)."""
    return x / (x + scale)


def dense_features(
    raw: str, normalised: str, lexicon: Mapping[str, float]
) -> List[float]:
    """Cheap surface and lexicon cues, each roughly in [0, 1].

    The order matches :data:`DENSE_FEATURES`.
    """
    words = _WORD.findall(normalised)
    pos_sum = neg_sum = pos_max = neg_max = 0.0
    profanity = 0
    for i, word in enumerate(words):
        if word in PROFANITY:
            profanity += 1
        valence = lexicon.get(word)
        if valence is None:
            continue
        start = max(0, i - 3)
        if any(w in NEGATORS for w in words[start:i]):
            valence *= -0.74  # VADER's negation scalar
        if valence > 0:
            pos_sum += valence
            pos_max = max(pos_max, valence)
        else:
            neg_sum -= valence
            neg_max = max(neg_max, -valence)

    n_letters = len(_LETTERS.findall(raw))
    n_upper = len(_LETTERS_UPPER.findall(raw))
    caps_ratio = n_upper / n_letters if n_letters >= 6 else 0.0
    caps_words = sum(1 for w in _CAPS_WORD.findall(raw) if w not in _NEUTRAL_ACRONYMS)
    shouting = 1.0 if (caps_ratio >= 0.6 and n_letters >= 8) or caps_words >= 3 else 0.0
    n_excl = raw.count("!")
    longest_run = max((len(m) for m in _EXCLAMATION_RUN.findall(raw)), default=0)
    return [
        _squash(pos_sum, 4.0),
        _squash(neg_sum, 4.0),
        neg_max / 4.0,
        pos_max / 4.0,
        caps_ratio,
        min(caps_words, 5) / 5.0,
        shouting,
        min(n_excl, 5) / 5.0,
        min(longest_run, 4) / 4.0,
        1.0 if _INTERROBANG.search(raw) else 0.0,
        min(raw.count("?"), 3) / 3.0,
        min(profanity, 3) / 3.0,
        1.0 if _ELONGATED_LETTER.search(raw) else 0.0,
        min(math.log1p(len(words)) / 5.0, 1.0),
    ]


def load_lexicon(lines: Iterable[str]) -> Dict[str, float]:
    """Parse a VADER-style lexicon (``token<TAB>mean valence<TAB>...``)."""
    lexicon: Dict[str, float] = {}
    for line in lines:
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 2:
            continue
        try:
            lexicon[parts[0].lower()] = float(parts[1])
        except ValueError:
            continue
    return lexicon


def count_grams(grams: Sequence[str]) -> Dict[str, int]:
    """Term counts of a gram list (faster than ``collections.Counter`` here)."""
    counts: Dict[str, int] = {}
    for gram in grams:
        counts[gram] = counts.get(gram, 0) + 1
    return counts
