"""Intent classification: the BillingIntentClassifier component, and the trained model on messages
customers write (typos, SMS shorthand, caps lock) that are *not* in the training data."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intents import BillingIntentClassifier

ROOT = Path(__file__).resolve().parents[2]

TOY = {
    "ask_balance": ["what is my balance", "how much do I owe", "balance please", "what do I owe you"],
    "make_payment": ["I want to pay my bill", "pay my bill now", "take a payment", "can I pay by card"],
    "greet": ["hello", "hi there", "good morning", "hey"],
}


def _pipeline(tmp_path: Path, context: ExecutionContext):
    storage = LocalModelStorage(tmp_path)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    # each featurizer marks its features with its node name: the classifier keeps them apart
    words = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("words"),
        ExecutionContext(context.graph_schema, node_name="words"))
    chars = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb",
         "min_ngram": 2, "max_ngram": 4}, storage, Resource("chars"),
        ExecutionContext(context.graph_schema, node_name="chars"))
    return storage, tokenizer, [words, chars]


def _featurize(tokenizer, featurizers, messages: List[Message]) -> None:
    tokenizer.process(messages)
    for featurizer in featurizers:
        featurizer.process(messages)


@pytest.fixture
def toy_classifier(tmp_path):
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    storage, tokenizer, featurizers = _pipeline(tmp_path, context)
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in TOY.items() for t in ts])
    tokenizer.process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
        featurizer.process_training_data(data)
    resource = Resource("intents")
    classifier = BillingIntentClassifier.create(
        BillingIntentClassifier.get_default_config(), storage, resource, context)
    classifier.train(data)
    return storage, resource, context, tokenizer, featurizers, classifier


def _classify(classifier, tokenizer, featurizers, text: str) -> Dict:
    message = Message(data={"text": text})
    _featurize(tokenizer, featurizers, [message])
    classifier.process([message])
    return message.get("intent")


def test_toy_pipeline_classifies_unseen_wording(toy_classifier):
    _, _, _, tokenizer, featurizers, classifier = toy_classifier
    assert _classify(classifier, tokenizer, featurizers, "how much do i owe u")["name"] == "ask_balance"
    assert _classify(classifier, tokenizer, featurizers, "PAY MY BILL PLS")["name"] == "make_payment"
    assert _classify(classifier, tokenizer, featurizers, "helloo there")["name"] == "greet"


def test_persisted_idf_weights_give_the_same_ranking_after_loading(toy_classifier):
    storage, resource, context, tokenizer, featurizers, classifier = toy_classifier
    loaded = BillingIntentClassifier.load(
        BillingIntentClassifier.get_default_config(), storage, resource, context)
    assert loaded.idf is not None and len(loaded.idf) == 2
    for text in ("balance pls", "i wanna pay", "hi"):
        before = _classify(classifier, tokenizer, featurizers, text)
        after = _classify(loaded, tokenizer, featurizers, text)
        assert after["name"] == before["name"]
        assert after["confidence"] == pytest.approx(before["confidence"])


def test_processing_without_learnt_weights_is_an_error_not_a_guess(tmp_path):
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    storage, tokenizer, featurizers = _pipeline(tmp_path, context)
    data = TrainingData([Message(data={"text": "hello"})])
    tokenizer.process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
    untrained = BillingIntentClassifier.create(
        BillingIntentClassifier.get_default_config(), storage, Resource("x"), context)
    message = Message(data={"text": "hello"})
    _featurize(tokenizer, featurizers, [message])
    with pytest.raises(ValueError, match="no idf weights"):
        untrained.process([message])


# ------------------------------------------------------------------ the trained model (models/)
# Messages written for this test, not copied from data/nlu (checked below): the spelling customers
# really use on SMS and in the chat widget.
UNSEEN = [
    ("heyy, good mornin", "greet"),
    ("hiya there, hope ur ok", "greet"),
    ("ok thats everything, bye for now", "goodbye"),
    ("thx a lot for sorting it", "thank"),
    ("yes pls do that", "affirm"),
    ("nah dont bother", "deny"),
    ("am i chatting to a real human or a bot", "bot_challenge"),
    ("u charged me twice 4 the same bill!!", "charged_twice"),
    ("I SEE TWO IDENTICAL PAYMENTS TO NORTHWIND THIS MONTH", "charged_twice"),
    ("theres a charge on my bil i dont recognise", "dispute_charge"),
    ("WHY IS MY BILL 30 DOLLARS MORE THAN MY PLAN", "dispute_charge"),
    ("can i get my money bak pls, i want a refund", "request_refund"),
    ("any news on my refund? still not in my acct", "refund_status"),
    ("can u email me a copy of my latest invoce", "ask_invoice"),
    ("hw much do i owe rn", "ask_balance"),
    ("i wanna pay my bill w my visa", "make_payment"),
    ("cant afford the full amount, can i pay in 3 instalments", "request_payment_plan"),
    ("let me talk to a real person pls", "request_human"),
    ("ur service is a total disgrace, worst company ive ever dealt with", "complain"),
    ("whats the score in the football", "out_of_scope"),
]


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _latest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained model in models/: run `make train` first")
    return models[-1]


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    return Agent.load(model_path=str(_latest_model()))


def test_probe_messages_are_not_training_examples():
    training = {_norm(m.get("text")) for m in load_data(str(ROOT / "data" / "nlu")).intent_examples}
    assert [t for t, _ in UNSEEN if _norm(t) in training] == []


@pytest.mark.parametrize("text,intent", UNSEEN)
def test_trained_model_reads_unseen_customer_messages(agent, text, intent):
    result = asyncio.run(agent.parse_message(text))
    assert result["intent"]["name"] == intent, result["intent_ranking"][:3]


def test_the_one_message_path_gives_the_general_paths_probabilities(toy_classifier):
    _, _, _, tokenizer, featurizers, classifier = toy_classifier
    texts = ["how much do i owe u", "PAY MY BILL PLS", "helloo there", "zzz", "", "balance balance balance"]
    singles = []
    for text in texts:
        message = Message(data={"text": text})
        _featurize(tokenizer, featurizers, [message])
        assert text == "" or classifier._row(message) is not None  # the fast path is taken
        classifier.process([message])
        singles.append(message)
    batch = [Message(data={"text": text}) for text in texts]
    _featurize(tokenizer, featurizers, batch)
    classifier.process(batch)  # several messages: scikit-learn's predict_proba
    for one, general in zip(singles, batch):
        assert one.get("intent")["name"] == general.get("intent")["name"]
        assert [r["name"] for r in one.get("intent_ranking")] == [r["name"] for r in general.get("intent_ranking")]
        for a, b in zip(one.get("intent_ranking"), general.get("intent_ranking")):
            assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-12)


@pytest.fixture(scope="module")
def toy_with_encoder(tmp_path_factory):
    """The toy pipeline plus the sentence encoder's dense vectors (bot/nlu/featurizers)."""
    from bot.nlu.featurizers import SentenceEncoderFeaturizer

    tmp_path = tmp_path_factory.mktemp("encoder")
    context = ExecutionContext(GraphSchema({}), node_name="intents")
    storage, tokenizer, featurizers = _pipeline(tmp_path, context)
    encoder = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(), storage, Resource("encoder"),
        ExecutionContext(context.graph_schema, node_name="encoder"))
    featurizers = [*featurizers, encoder]
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, ts in TOY.items() for t in ts])
    tokenizer.process_training_data(data)
    for featurizer in featurizers:
        featurizer.train(data)
        featurizer.process_training_data(data)
    classifier = BillingIntentClassifier.create(
        BillingIntentClassifier.get_default_config(), storage, Resource("intents"), context)
    classifier.train(data)
    return tokenizer, featurizers, classifier


def test_the_sentence_vector_reads_wordings_with_no_ngram_in_common(toy_with_encoder):
    tokenizer, featurizers, classifier = toy_with_encoder
    n_grams = sum(idf.shape[0] for idf in classifier.idf)
    assert classifier.clf.coef_.shape[1] == n_grams + 384  # the n-gram blocks, then the vector
    # none of these words is in the toy data; their meaning is
    for text, intent in [("howdy", "greet"), ("what's outstanding on the account", "ask_balance"),
                         ("debt total?", "ask_balance"), ("transfer funds to you", "make_payment")]:
        assert _classify(classifier, tokenizer, featurizers, text)["name"] == intent, text


def test_the_one_message_path_with_dense_features_gives_the_general_paths_probabilities(toy_with_encoder):
    tokenizer, featurizers, classifier = toy_with_encoder
    texts = ["how much do i owe u", "PAY MY BILL PLS", "howdy", "zzz", "debt total?", ""]
    singles = []
    for text in texts:
        message = Message(data={"text": text})
        _featurize(tokenizer, featurizers, [message])
        if text:  # an empty text has no vector: its columns are zeros on both paths
            cols, _ = classifier._row(message)  # the fast path is taken ...
            assert cols.max() == classifier.clf.coef_.shape[1] - 1  # ... and reads the vector
        classifier.process([message])
        singles.append(message)
    batch = [Message(data={"text": text}) for text in texts]
    _featurize(tokenizer, featurizers, batch)
    classifier.process(batch)
    for one, general in zip(singles, batch):
        for a, b in zip(one.get("intent_ranking"), general.get("intent_ranking")):
            assert a["name"] == b["name"]
            assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-12)
