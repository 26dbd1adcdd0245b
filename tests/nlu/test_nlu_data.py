"""The training data in data/nlu/ has no label contradictions, and the BANKING77 sampler applies the
training filters documented in scripts/banking77_mapping.py (docs/nlu.md, "Labelling rules")."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import banking77_mapping as mapping  # noqa: E402
import nlu_conflicts  # noqa: E402


def test_no_text_has_two_intents():
    examples = nlu_conflicts.read_examples(ROOT / "data" / "nlu")
    assert len(examples) > 5000
    assert nlu_conflicts.exact_conflicts(examples) == {}


def test_conflict_finder_reports_near_duplicates_with_different_intents(tmp_path):
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: make_payment\n  examples: |\n    - my card was declined\n'
        "    - pay my bill\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n    - My card was declined!\n'
        "    - my card got declined\n    - what's the weather\n", encoding="utf-8")
    examples = nlu_conflicts.read_examples(tmp_path)
    exact = nlu_conflicts.exact_conflicts(examples)
    assert list(exact) == ["my card was declined"]
    near = nlu_conflicts.near_conflicts(examples, threshold=0.6)
    pairs = {(a[0], b[0]) for _, a, b in near}
    assert ("my card was declined", "my card got declined") in pairs
    assert all(a[1] != b[1] for _, a, b in near)


@pytest.mark.parametrize("text,skipped", [
    ("Somebody stole my wallet and is using my card!", True),
    ("My card has been compromised, please freeze it", True),
    ("There is a payment on my card I don't recognise", False),
    ("Why was I charged a fee for my transfer?", False),
])
def test_card_security_reports_are_not_dispute_examples(text, skipped):
    assert bool(mapping._CARD_SECURITY.search(text)) is skipped


@pytest.mark.parametrize("text,skipped", [
    ("Are money transfers free?", True),
    ("How can I tell if there will be a fee added to my payment?", True),
    ("how do i avoid charges in the future", True),
    ("I was charged a fee for a transfer I made", False),
])
def test_price_enquiries_are_not_dispute_examples(text, skipped):
    assert bool(mapping._MORE_PRICE_ENQUIRY.match(text)) is skipped


def test_generated_sample_leaves_out_the_overlapping_categories():
    train = mapping.shared_data_dir() / "banking77" / "train.csv"
    if not train.exists():
        pytest.skip("BANKING77 not available")
    with open(train, newline="", encoding="utf-8") as f:
        category = {mapping._norm(r["text"]): r["category"] for r in csv.DictReader(f)}
    examples = nlu_conflicts.read_examples(ROOT / "data" / "nlu")
    sampled = [category.get(mapping._norm(t)) for t, _, f in examples if f == "banking77.yml"]
    assert len(sampled) > 1000 and None not in sampled
    assert not set(sampled) & mapping.NOT_SAMPLED
