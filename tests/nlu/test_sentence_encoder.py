"""The sentence encoder (bot/nlu/encoder) and its Rasa featurizer.

The ONNX graph is written by hand from the weights, so it is checked against an independent numpy
forward pass of the same BERT weights; the int8 graph against the float one; and the featurizer
for what the intent classifier depends on: the vectors it adds at training are the ones it adds
when serving, and they survive the model's persistence.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.encoder.graph import float_model, load_weights, quantized_model
from bot.nlu.encoder.runtime import SentenceEncoder
from bot.nlu.encoder.weights import weights_dir
from bot.nlu.featurizers import SentenceEncoderFeaturizer

TEXTS = [
    "you charged me twice!!",
    "hi, I have a question about my bill",
    "I lost my job and can't pay",
    "adios",
    "WHY IS MY BILL 30 DOLLARS MORE THAN MY PLAN",
    "can u email me a copy of my latest invoce",
]


@pytest.fixture(scope="module")
def folder() -> Path:
    return weights_dir()


@pytest.fixture(scope="module")
def int8(folder) -> SentenceEncoder:
    return SentenceEncoder(quantized_model(folder), (folder / "tokenizer.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def float32(folder) -> SentenceEncoder:
    return SentenceEncoder(float_model(folder), (folder / "tokenizer.json").read_text(encoding="utf-8"))


def _numpy_reference(weights, ids):
    """BERT forward pass + mean pooling in plain numpy, for one unpadded text."""
    def layer_norm(x, prefix):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * weights[prefix + "weight"] + weights[prefix + "bias"]

    def linear(x, prefix):
        return x @ weights[prefix + "weight"].T + weights[prefix + "bias"]

    n = len(ids)
    x = (weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.position_embeddings.weight"][:n]
         + weights["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, "embeddings.LayerNorm.")
    for i in range(6):
        p = f"encoder.layer.{i}."
        q, k, v = (linear(x, f"{p}attention.self.{part}.").reshape(n, 12, 32).transpose(1, 0, 2)
                   for part in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, 384)
        x = layer_norm(x + linear(context, f"{p}attention.output.dense."), f"{p}attention.output.LayerNorm.")
        h = linear(x, f"{p}intermediate.dense.")
        h = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))
        x = layer_norm(x + linear(h, f"{p}output.dense."), f"{p}output.LayerNorm.")
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


def test_the_onnx_graph_computes_what_the_numpy_reference_computes(folder, float32):
    weights = load_weights(folder)
    for text in TEXTS[:3]:
        reference = _numpy_reference(weights, float32.token_ids(text))
        assert float(reference @ float32.encode_one(text)) > 0.99999


def test_int8_vectors_stay_close_to_the_float_ones(float32, int8):
    cosines = (float32.encode(TEXTS) * int8.encode(TEXTS)).sum(1)
    assert cosines.min() > 0.97, cosines


def test_vectors_are_unit_length_and_place_meanings_near_each_other(int8):
    vectors = int8.encode(["let me talk to a real person", "I want to speak to a human agent",
                           "when is my bill due"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_training_encodes_each_text_as_serving_does(int8):
    many = int8.encode(TEXTS * 3, workers=2)
    one_by_one = np.stack([int8.encode_one(text) for text in TEXTS * 3])
    assert np.array_equal(many, one_by_one)
    assert int8.encode([]).shape == (0, 384)


def test_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("NLU_ENCODER_DIR", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make venv"):
        weights_dir()


def test_featurizer_adds_the_same_vector_in_training_serving_and_after_loading(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="encoder")
    config = SentenceEncoderFeaturizer.get_default_config()
    featurizer = SentenceEncoderFeaturizer.create(config, storage, Resource("encoder"), context)
    data = TrainingData([Message(data={TEXT: text, "intent": "x"}) for text in TEXTS]
                        + [Message(data={"intent": "no_text"})])
    featurizer.train(data)
    featurizer.process_training_data(data)
    loaded = SentenceEncoderFeaturizer.load(config, storage, Resource("encoder"), context)
    for example in data.training_examples:
        if not example.get(TEXT):
            assert example.features == []
            continue
        (trained,) = [f for f in example.features if f.type == FEATURE_TYPE_SENTENCE]
        assert trained.attribute == TEXT and trained.origin == "encoder" and trained.features.shape == (1, 384)
        served = Message(data={TEXT: example.get(TEXT)})
        loaded.process([served])
        (feature,) = served.features
        assert np.array_equal(feature.features, trained.features)


class _CountingEncoder:
    """Stands in for SentenceEncoder in the cache tests: records what it is asked to encode."""

    dimension = 4

    def __init__(self, fingerprint: str = "f" * 64) -> None:
        self.fingerprint = fingerprint
        self.asked = []

    def encode(self, texts, workers=1):
        self.asked.append(list(texts))
        return np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts], np.float32)


def test_vector_cache_encodes_each_text_once_per_graph(tmp_path):
    from bot.nlu.encoder.cache import encode_cached

    encoder = _CountingEncoder()
    first = encode_cached(encoder, ["refund", "late fee", "refund"], cache_dir=tmp_path)
    second = encode_cached(encoder, ["late fee", "hello", "refund"], cache_dir=tmp_path)
    assert encoder.asked == [["late fee", "refund"], ["hello"]]
    assert np.array_equal(first, encoder.encode(["refund", "late fee", "refund"]))
    assert np.array_equal(second, encoder.encode(["late fee", "hello", "refund"]))
    other = _CountingEncoder("0" * 64)  # another graph: nothing cached for it
    encode_cached(other, ["refund"], cache_dir=tmp_path)
    assert other.asked == [["refund"]]


def test_a_damaged_vector_cache_is_rebuilt_not_trusted(tmp_path):
    from bot.nlu.encoder.cache import encode_cached

    encoder = _CountingEncoder()
    encode_cached(encoder, ["refund", "late fee"], cache_dir=tmp_path)
    (tmp_path / f"{encoder.fingerprint}.texts.json").write_text('["late fee", "refund"]')  # rows swapped
    np.save(tmp_path / f"{encoder.fingerprint}.npy", np.zeros((3, 4), np.float32))  # and a row too many
    again = encode_cached(encoder, ["refund", "late fee"], cache_dir=tmp_path)
    assert np.array_equal(again, encoder.encode(["refund", "late fee"]))
    assert encoder.asked[-2] == ["late fee", "refund"]  # encoded afresh


def test_a_change_to_the_graph_code_retrains_the_featurizer(monkeypatch, tmp_path):
    """Rasa's cache key covers config and data only: the featurizer adds its code and weights."""
    from bot.nlu.encoder import graph

    before = SentenceEncoderFeaturizer.fingerprint_addon({})
    assert before == SentenceEncoderFeaturizer.fingerprint_addon({})
    changed = tmp_path / "graph.py"
    changed.write_bytes(Path(graph.__file__).read_bytes() + b"\n# changed\n")
    monkeypatch.setattr(graph, "__file__", str(changed))
    assert SentenceEncoderFeaturizer.fingerprint_addon({}) != before
