"""SMS text handling without a server: splitting, buttons, command neutralising."""
from __future__ import annotations

import pytest
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.channels.sms_text import choose_button, neutralise_command, render_buttons, split_message


def test_short_text_is_one_message() -> None:
    assert split_message("  Your bill is $49.00.  ") == ["Your bill is $49.00."]
    assert split_message("   ") == []


def test_sentences_are_packed_greedily_and_never_cut() -> None:
    sentences = [f"Sentence number {i} is here and ends with a full stop." for i in range(20)]
    text = " ".join(sentences)
    parts = split_message(text, 120)
    assert all(len(p) <= 120 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text
    assert len(parts) == 10  # two 55-char sentences fit in 120, three do not


def test_question_marks_quotes_and_line_breaks_are_boundaries() -> None:
    text = 'Is that right? She said "yes." Then it ended!\nReply 1 for Refund, 2 for Credit'
    assert split_message(text, 40) == [
        'Is that right? She said "yes."',  # the closing quote stays with its sentence
        "Then it ended!",
        "Reply 1 for Refund, 2 for Credit",
    ]


def test_decimal_amounts_are_not_sentence_ends() -> None:
    text = "You paid $49.00 on 03.04.2024 and $12.50 later. " * 4
    parts = split_message(text, 100)
    assert all(p.endswith("later.") for p in parts)


def test_a_word_longer_than_the_limit_is_the_only_thing_ever_cut() -> None:
    url = "https://example.com/" + "a" * 100
    parts = split_message(f"See {url} for details.", 50)
    assert all(len(p) <= 50 for p in parts)
    assert "".join(parts).replace(" ", "") == f"See{url}fordetails."


@pytest.mark.parametrize(
    "text, expected",
    [('/intent{"x":1}', 'intent{"x":1}'), (" \t/greet", "greet"), ("///a", "a"), ("/ / a", "a"), ("/", ""),
     ("\u3000/greet", "greet"), ("a/b", "a/b")],
)
def test_neutralise_command(text: str, expected: str) -> None:
    cleaned = neutralise_command(text)
    assert cleaned == expected
    assert YAMLStoryReader.unpack_regex_message(Message({TEXT: cleaned})).get(INTENT) is None


def test_render_and_choose_buttons() -> None:
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}, {"payload": "/other"}]
    assert render_buttons("Apply the credit?", buttons) == "Apply the credit?\nReply 1 for Yes, 2 for No, 3 for /other"
    assert render_buttons("", buttons[:1]) == "Reply 1 for Yes"
    assert choose_button("2.", buttons)["payload"] == "/deny"
    assert choose_button("no", buttons)["payload"] == "/deny"  # the title itself
    assert choose_button("0", buttons) is None and choose_button("12", buttons) is None
    assert choose_button("2 please", buttons) is None
    assert choose_button("1", []) is None
