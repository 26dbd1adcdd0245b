"""The sentence-only count-vectors featurizer gives Rasa's sentence features, and no token rows."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.featurizers import SentenceCountVectorsFeaturizer

ROOT = Path(__file__).resolve().parents[2]
UNSEEN = ["you charged me twice!!", "INV0142 is wrong, $1,240.00??", "i want a human NOW", "", "   ",
          "zzzz qqq", "thx", "can u email me a copy of my latest invoce", "ACC-1001 94110"]


def configured_featurizers() -> List[Dict]:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]
    return [{k: v for k, v in step.items() if k != "name"} for step in pipeline
            if step["name"] == "bot.nlu.featurizers.SentenceCountVectorsFeaturizer"]


def test_config_uses_it_for_both_featurizers() -> None:
    assert len(configured_featurizers()) == 2


@pytest.mark.parametrize("options", configured_featurizers())
def test_sentence_features_equal_rasas_and_there_are_no_token_rows(tmp_path: Path, options: Dict) -> None:
    storage = LocalModelStorage(tmp_path)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())

    def make(cls, name):  # type: ignore[no-untyped-def]
        return cls.create({**cls.get_default_config(), **options}, storage, Resource(name),
                          ExecutionContext(GraphSchema({}), node_name=name))

    rasas, ours = make(CountVectorsFeaturizer, "rasa"), make(SentenceCountVectorsFeaturizer, "ours")
    data = load_data(str(ROOT / "data" / "nlu"))
    tokenizer.process_training_data(data)
    rasas.train(data)
    ours.train(data)
    messages = [Message(data={TEXT: m.get(TEXT)}) for m in data.intent_examples[::7]]
    messages += [Message(data={TEXT: text}) for text in UNSEEN]
    tokenizer.process(messages)
    twins = [Message(data=dict(m.data)) for m in messages]
    rasas.process(messages)
    ours.process(twins)
    assert len(messages) > 200
    for theirs, mine in zip(messages, twins):
        expected = [f for f in theirs.features if f.type == FEATURE_TYPE_SENTENCE]
        got = [f for f in mine.features if f.type == FEATURE_TYPE_SENTENCE]
        assert len(got) == len(expected)
        for a, b in zip(expected, got):
            assert (a.features != b.features).nnz == 0 and a.features.shape == b.features.shape
            assert a.features.format == b.features.format == "coo"
            assert a.features.dtype == b.features.dtype
            assert a.features.row.dtype == b.features.row.dtype and a.features.col.dtype == b.features.col.dtype
            assert list(a.features.col) == list(b.features.col) and list(a.features.data) == list(b.features.data)
        assert not [f for f in mine.features if f.type == FEATURE_TYPE_SEQUENCE]
