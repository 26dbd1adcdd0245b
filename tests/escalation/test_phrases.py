"""Whole-word, inflection-tolerant matching of legal terms and requests for a person."""
from __future__ import annotations

import pytest

from bot.escalation import is_human_request, legal_term, load_config
from bot.escalation.phrases import PhraseMatcher
from tests.escalation.support import turn

CONFIG = load_config()


@pytest.mark.parametrize("text, term", [
    ("I will SUE you", "sue"), ("I'm suing", "sue"), ("we sued them before", "sue"),
    ("my lawyers", "lawyer"), ("talking to an attorney", "attorney"), ("the Attorney General", "attorney general"),
    ("see you in court", "court"), ("a lawsuit", "law suit"), ("class-action suit", "class action"),
    ("bbb complaint", "BBB"), ("Better Business Bureau", "better business bureau"), ("CFPB", "CFPB"),
    ("chargeback", "charge back"), ("charge back", "charge back"), ("charge-back", "charge back"),
    ("charging back the payment", "charge back"), ("filing a fraud report", "fraud report"),
    ("I'll report fraud", "report fraud"), ("small claims court", "small claims"),
    ("I’m suing", "sue"),  # curly apostrophe
])
def test_legal_terms(text, term):
    assert legal_term(text, CONFIG) == term


@pytest.mark.parametrize("text", [
    "thanks for the courtesy call", "pursue", "courteous staff", "the lawn was mowed", "charged twice",
    "back charges on my account", "bbbq", "", None,
])
def test_not_legal(text):
    assert legal_term(text, CONFIG) is None


@pytest.mark.parametrize("text", ["real person please", "AGENT", "can I speak to someone", "human", "a live agent",
                                  "let me talk to a person", "get me your supervisor", "representatives"])
def test_human_request_phrases(text):
    assert is_human_request(turn(text, "inform"), CONFIG)


@pytest.mark.parametrize("text", ["that's a human error", "the agent said I'd get a refund", "I was charged twice",
                                  "humanity", "agency fee"])
def test_not_human_requests(text):
    assert not is_human_request(turn(text, "inform"), CONFIG)


def test_intent_alone_is_a_request():
    assert is_human_request(turn("/request_human", "request_human"), CONFIG)


def test_acronyms_only_take_a_plural():
    m = PhraseMatcher(["FCC"])
    assert m.find("the FCC's rules") == "FCC" and m.find("fccs") == "FCC" and m.find("fcced") is None


def test_ignore_phrases_and_empty_matcher():
    m = PhraseMatcher(["court"], ignore=["court date"])
    assert m.find("my court date is Monday") is None and m.find("court") == "court"
    assert PhraseMatcher([]).find("anything") is None
