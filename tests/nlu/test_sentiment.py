"""Tests of the sentiment component (bot.nlu.sentiment).

The behaviour tests share one model trained on the full shipped corpus (about
30-45 s once; cached in pytest's cache dir keyed by the corpus + code
fingerprint, so reruns are instant). Set ``SENTIMENT_TEST_SUBSET=N`` to train
the shared model on only N GoEmotions rows instead. The phrases below are
deliberately *not* part of ``data/sentiment/billing_messages.tsv``.
"""
from __future__ import annotations

import asyncio
import math
import os
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.sentiment import text as tx
from bot.nlu.sentiment.corpus import default_corpus_dir, read_billing
from bot.nlu.sentiment.model import SentimentModel
from bot.nlu.sentiment.trajectory import sentiment_trajectory
from bot.nlu.sentiment.types import LABELS, SENTIMENT_KEY, TONES

CALM_QUESTIONS = [
    "hi, I have a question about my bill",
    "Hello, could you tell me when my next invoice will be issued?",
    "Can you explain the 4.99 service fee on my statement?",
    "hey, is it possible to move my payment date to the 1st?",
]
UPSET_MESSAGES = [
    "YOU CHARGED ME TWICE!!! this is ridiculous",
    "u charged me 2x wtf",
    "I want my money back NOW!!!",
    "why the hell did you charge me again",
]
THANKS = ["thanks, that fixed it", "Thank you so much for the quick help!"]
# Billing messages written for these tests only (not in billing_messages.tsv):
# questions that name a dispute (overdue, twice, refund, fee) are still calm.
CALM_DISPUTE_QUESTIONS = [
    "is my bill overdue?",
    "could you check if I was charged twice in May?",
    "I think my refund is missing, can you look into it please?",
    "what is the 12.99 charge on my card from yesterday?",
    "hi, can I get a refund for the duplicate payment?",
    "hey, does my plan include international calls?",
    "Is there a mistake on my invoice? The total looks different from last month.",
]
# a "why ... fee" question sits at the calm/frustrated border (the Reddit
# training comments read "why" questions as annoyed); it must not read angry
BORDERLINE_QUESTION = "why was there a late fee on my last statement?"
# shouting, "!!!", "?!" and SMS shorthand
LOUD_COMPLAINTS = [
    "THIS IS THE THIRD TIME YOU HAVE OVERCHARGED ME!!!",
    "stop taking money from my account!!!",
    "Where is my refund?!?! I've waited 3 weeks",
    "unbelievable. charged AGAIN for the same month",
    "I'm so done with your billing errors",
]
POLITE_THANKS = [
    "Thanks for sorting out the refund so quickly, really appreciate it",
    "great, that's all I needed, thank you!",
    "perfect, the credit shows on my account now. cheers",
]
# the same complaint, from a plain report to shouting abuse
INTENSITY_LADDER = [
    "there is an extra charge on my bill",
    "there is an extra charge on my bill again, so annoying",
    "another extra charge on my bill?! this is ridiculous",
    "ANOTHER EXTRA CHARGE ON MY BILL!!! YOU ARE SCAMMERS",
]
TONE_RANK = {tone: rank for rank, tone in enumerate(TONES)}
HELD_OUT_PHRASES = (
    CALM_QUESTIONS + UPSET_MESSAGES + THANKS + CALM_DISPUTE_QUESTIONS + LOUD_COMPLAINTS
    + POLITE_THANKS + INTENSITY_LADDER + [BORDERLINE_QUESTION]
)


# --------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def model(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SentimentModel:
    from bot.nlu.sentiment.component import SentimentAnalyzer
    from bot.nlu.sentiment.training import train_model

    subset = os.environ.get("SENTIMENT_TEST_SUBSET")
    key = SentimentAnalyzer.fingerprint_addon({})[:16] + (f"-{subset}" if subset else "")
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    base = cache.mkdir("sentiment_model") if cache else tmp_path_factory.mktemp("model")
    cache_dir = Path(base) / key
    try:
        return SentimentModel.load(cache_dir)
    except (OSError, ValueError):
        pass
    trained = train_model(max_train_examples=int(subset) if subset else None)
    trained.save(cache_dir)
    return trained


# ------------------------------------------------------------- behaviour tests
@pytest.mark.parametrize("text", CALM_QUESTIONS)
def test_calm_questions_read_calm_and_neutral(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["tone"] == "calm", result
    assert result["label"] == "neutral", result


@pytest.mark.parametrize("text", UPSET_MESSAGES)
def test_upset_messages_read_negative_and_not_calm(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["label"] == "negative", result
    assert result["tone"] in ("frustrated", "angry"), result
    assert result["score"] < -0.3, result


@pytest.mark.parametrize("text", THANKS)
def test_thanks_reads_positive(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["label"] == "positive", result
    assert result["tone"] == "calm", result
    assert result["score"] > 0.3, result


@pytest.mark.parametrize("text", CALM_DISPUTE_QUESTIONS)
def test_calm_dispute_questions_read_calm(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["tone"] == "calm", result
    assert result["label"] == "neutral", result
    assert -0.5 < result["score"] <= 0.3, result


def test_borderline_fee_question_is_never_angry(model: SentimentModel) -> None:
    result = model.predict(BORDERLINE_QUESTION)
    assert result["tone"] in ("calm", "frustrated"), result
    assert result["label"] != "positive", result


@pytest.mark.parametrize("text", LOUD_COMPLAINTS)
def test_loud_complaints_read_upset(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["label"] == "negative", result
    assert result["tone"] in ("frustrated", "angry"), result
    assert result["score"] <= -0.5, result


@pytest.mark.parametrize("text", POLITE_THANKS)
def test_polite_thanks_read_positive(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert result["label"] == "positive", result
    assert result["tone"] == "calm", result
    assert result["score"] > 0.3, result


def test_tone_and_score_follow_intensity(model: SentimentModel) -> None:
    results = model.predict_many(INTENSITY_LADDER)
    ranks = [TONE_RANK[r["tone"]] for r in results]
    assert ranks == sorted(ranks), results
    assert results[0]["tone"] == "calm" and results[-1]["tone"] == "angry", results
    assert results[0]["score"] > -0.5, results
    assert all(r["score"] <= -0.5 for r in results[1:]), results
    assert results[-1]["score"] <= -0.75, results


@pytest.mark.parametrize(
    ("quiet", "loud"),
    [
        ("why did you charge me twice", "WHY DID YOU CHARGE ME TWICE?!?!"),
        ("where is my refund", "WHERE IS MY REFUND!!!"),
    ],
)
def test_shouting_never_reads_calmer(model: SentimentModel, quiet: str, loud: str) -> None:
    q, l = model.predict(quiet), model.predict(loud)
    assert TONE_RANK[l["tone"]] >= TONE_RANK[q["tone"]], (q, l)
    assert l["tone"] != "calm" and l["label"] == "negative", l
    assert l["score"] <= -0.5, l


@pytest.mark.parametrize(
    ("probabilities", "tone"),
    [
        ((0.05, 0.10, 0.90, 0.05), "frustrated"),  # annoyed, negative head unsure
        ((0.95, 0.00, 0.95, 0.95), "angry"),
        ((0.30, 0.95, 0.90, 0.95), "angry"),  # "thanks for NOTHING!!!"
        ((0.99, 0.00, 0.01, 0.01), "calm"),  # sad or worried, not irritated
    ],
)
def test_score_is_never_milder_than_the_tone(
    model: SentimentModel, probabilities, tone: str
) -> None:
    result = model.decide(probabilities)
    assert result["tone"] == tone, result
    assert result["label"] == "negative", result
    ceiling = {"calm": 0.0, "frustrated": -0.5, "angry": -0.75}[tone]
    assert result["score"] <= ceiling and result["score"] >= -1.0, result


def test_shouting_is_more_upset_than_the_same_words_in_lower_case(model: SentimentModel) -> None:
    quiet = model.head_probabilities("you charged me twice. this is ridiculous")
    loud = model.head_probabilities("YOU CHARGED ME TWICE!!! THIS IS RIDICULOUS")
    assert loud[2] > quiet[2]  # anger/annoyance head


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😡😡😡",
        "????!!!!",
        "ok",
        "Hola, tengo una pregunta sobre mi factura",
        "a" * 5000,
        "why " * 400,
        "\t\n",
    ],
)
def test_output_schema_and_score_range(model: SentimentModel, text: str) -> None:
    result = model.predict(text)
    assert set(result) == {"label", "score", "tone"}
    assert result["label"] in LABELS
    assert result["tone"] in TONES
    assert isinstance(result["score"], float)
    assert -1.0 <= result["score"] <= 1.0
    assert not math.isnan(result["score"])


def test_score_sign_agrees_with_label(model: SentimentModel) -> None:
    texts = CALM_QUESTIONS + UPSET_MESSAGES + THANKS + [
        "are you kidding me",
        "great, another wrong bill, just what I needed",
        "not bad actually",
    ]
    for result in model.predict_many(texts):
        if result["label"] == "negative":
            assert result["score"] < 0, result
        if result["label"] == "positive":
            assert result["score"] > 0, result


def test_fast_path_matches_sklearn_tfidf(model: SentimentModel) -> None:
    """The dict-lookup inference reproduces scikit-learn's TF-IDF exactly."""
    from functools import partial

    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = UPSET_MESSAGES + CALM_QUESTIONS + ["sooo annoyed!!! 😡 @user http://x.y"]
    for block, analyzer in (
        (model.word, partial(tx.word_ngrams, ngram_range=model.word_ngram_range)),
        (model.char, partial(tx.char_ngrams, ngram_range=model.char_ngram_range)),
    ):
        vec = TfidfVectorizer(analyzer=analyzer, vocabulary=block.vocabulary, sublinear_tf=True)
        vec.idf_ = block.idf
        reference = vec.transform([tx.normalise(t) for t in texts]).toarray()
        for row, text in zip(reference, texts):
            idx, values = block.transform(analyzer(tx.normalise(text)))
            fast = np.zeros_like(row)
            fast[idx] = values
            np.testing.assert_allclose(fast, row, atol=1e-9)


def test_save_load_round_trip(model: SentimentModel, tmp_path: Path) -> None:
    model.save(tmp_path)
    loaded = SentimentModel.load(tmp_path)
    assert loaded.encoder is None  # not persisted: served, the vector comes with the message
    loaded.encoder = model.encoder
    texts = CALM_QUESTIONS + UPSET_MESSAGES + THANKS
    np.testing.assert_allclose(
        loaded.probabilities_many(texts), model.probabilities_many(texts), atol=1e-5
    )
    assert loaded.thresholds == model.thresholds


# ------------------------------------------------------------------ unit tests
def test_dense_features_see_caps_exclamations_and_swearing() -> None:
    names = tx.DENSE_FEATURES
    raw = "YOU CHARGED ME TWICE!!! wtf"
    values = dict(zip(names, tx.dense_features(raw, tx.normalise(raw), {})))
    assert values["shouting"] == 1.0
    assert values["exclamation_run"] > 0
    assert values["profanity"] > 0
    calm = "Could you check the VAT on my PDF invoice?"
    values = dict(zip(names, tx.dense_features(calm, tx.normalise(calm), {})))
    assert values["shouting"] == 0.0 and values["caps_words"] == 0.0


def test_billing_corpus_is_well_formed_and_excludes_test_phrases() -> None:
    rows = list(read_billing(default_corpus_dir() / "billing_messages.tsv"))
    assert len(rows) >= 300
    texts = [t for t, _, _ in rows]
    assert len(texts) == len(set(texts))
    lowered = {t.lower() for t in texts}
    for phrase in HELD_OUT_PHRASES:
        assert phrase.lower() not in lowered
    assert {label for _, label, _ in rows} == set(LABELS)
    assert {tone for _, _, tone in rows} == set(TONES)


def test_trajectory_from_parse_data() -> None:
    parse_datas = [
        {"text": "hi", "sentiment": {"label": "neutral", "score": 0.1, "tone": "calm"}},
        {"text": "/affirm"},  # no sentiment key: skipped
        {"text": "still wrong", "sentiment": {"label": "negative", "score": -0.5, "tone": "frustrated"}},
        {"text": "WTF", "sentiment": {"label": "negative", "score": -0.9, "tone": "angry"}},
        None,
    ]
    trajectory = sentiment_trajectory(parse_datas)
    assert [p.score for p in trajectory.points] == [0.1, -0.5, -0.9]
    assert trajectory.negative_streak == 2
    assert trajectory.peak_tone == "angry"
    assert trajectory.escalating
    assert trajectory.trend < 0
    assert trajectory.latest is not None and trajectory.latest.text == "WTF"
    assert sentiment_trajectory([]).as_dict()["escalating"] is False


# -------------------------------------------------------------- Rasa component
SMALL = {"max_goemotions_examples": 3000}


def _rasa_objects(tmp_path: Path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    return storage, Resource("train_SentimentAnalyzer3"), ExecutionContext(GraphSchema({}), "test")


def test_component_train_persist_load_process(tmp_path: Path) -> None:
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.sentiment import SentimentAnalyzer

    storage, resource, context = _rasa_objects(tmp_path)
    config = {**SentimentAnalyzer.get_default_config(), **SMALL}
    component = SentimentAnalyzer.create(config, storage, resource, context)
    assert component.train(TrainingData()) == resource

    loaded = SentimentAnalyzer.load(config, storage, resource, context)
    assert loaded._model.needs_vector and loaded._model.encoder is None  # served: from the message
    messages = [Message(data={TEXT: t}) for t in ["u charged me 2x wtf", "thanks, that fixed it"]]
    messages.append(Message(data={TEXT: "/greet"}))
    encoder = _encoder_featurizer(storage)
    encoder.process(messages)  # the pipeline's SentenceEncoderFeaturizer adds the vector
    loaded.process(messages)
    vector = messages[0].features[0].features.reshape(-1)
    assert messages[0].get(SENTIMENT_KEY) == loaded._model.predict("u charged me 2x wtf", vector)
    for message in messages:
        sentiment = message.get(SENTIMENT_KEY)
        assert set(sentiment) == {"label", "score", "tone"}
        # only output properties reach parse_data (MessageProcessor uses
        # as_dict(only_output_properties=True))
        assert SENTIMENT_KEY in message.as_dict(only_output_properties=True)
    assert messages[0].get(SENTIMENT_KEY)["label"] == "negative"
    assert messages[1].get(SENTIMENT_KEY)["label"] == "positive"
    assert messages[2].get(SENTIMENT_KEY) == {"label": "neutral", "score": 0.0, "tone": "calm"}


def _encoder_featurizer(storage):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.featurizers import SentenceEncoderFeaturizer

    featurizer = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(), storage, Resource("encoder"),
        ExecutionContext(GraphSchema({}), "encoder"))
    featurizer.train(TrainingData())
    return featurizer


def test_the_vector_comes_from_the_message_and_its_absence_is_reported(
    model: SentimentModel, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.sentiment import SentimentAnalyzer

    storage, resource, context = _rasa_objects(tmp_path)
    served = SentimentModel.load(_saved(model, tmp_path / "saved"))  # as loaded: no encoder
    component = SentimentAnalyzer(SentimentAnalyzer.get_default_config(), storage, resource, served)
    text = "another extra charge on my bill?! this is ridiculous"
    with_vector = Message(data={TEXT: text})
    _encoder_featurizer(storage).process([with_vector])
    component.process([with_vector])
    # the vector the featurizer added is the one the model was trained with (model.encoder's)
    assert with_vector.get(SENTIMENT_KEY) == model.predict(text)
    without = Message(data={TEXT: text})
    with caplog.at_level("WARNING"):
        component.process([without, Message(data={TEXT: "and again"})])
    assert sum("SentenceEncoderFeaturizer" in r.getMessage() for r in caplog.records) == 1
    assert without.get(SENTIMENT_KEY) == served.predict(text)  # scored without the vector


def _saved(model: SentimentModel, directory: Path) -> Path:
    model.save(directory)
    return directory


def test_saved_model_keeps_the_vector_weights(model: SentimentModel, tmp_path: Path) -> None:
    assert model.needs_vector and model.vector_weights.shape == (384, 4)
    loaded = SentimentModel.load(_saved(model, tmp_path))
    assert np.array_equal(loaded.vector_weights, model.vector_weights)
    vector = model.encoder.encode_one(UPSET_MESSAGES[0])
    assert np.allclose(loaded.head_logits(UPSET_MESSAGES[0], vector), model.head_logits(UPSET_MESSAGES[0]))
    # the vector counts: without it the logits differ
    assert not np.allclose(loaded.head_logits(UPSET_MESSAGES[0]), model.head_logits(UPSET_MESSAGES[0]))


def test_component_load_without_model_degrades_to_neutral(tmp_path: Path) -> None:
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.sentiment import SentimentAnalyzer

    storage, resource, context = _rasa_objects(tmp_path)
    loaded = SentimentAnalyzer.load(SentimentAnalyzer.get_default_config(), storage, resource, context)
    [message] = loaded.process([Message(data={TEXT: "hello"})])
    assert message.get(SENTIMENT_KEY)["label"] == "neutral"


def test_fingerprint_changes_with_corpus(tmp_path: Path) -> None:
    import shutil

    from bot.nlu.sentiment import SentimentAnalyzer

    corpus = tmp_path / "corpus"
    shutil.copytree(default_corpus_dir(), corpus, ignore=shutil.ignore_patterns("goemotions_train.tsv"))
    before = SentimentAnalyzer.fingerprint_addon({"corpus_dir": str(corpus)})
    with open(corpus / "billing_messages.tsv", "a", encoding="utf-8") as handle:
        handle.write("new message\tneutral\tcalm\n")
    assert SentimentAnalyzer.fingerprint_addon({"corpus_dir": str(corpus)}) != before


def test_recipe_places_component_in_nlu_predict_graph() -> None:
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "en",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "LogisticRegressionClassifier"},
            {"name": "bot.nlu.sentiment.SentimentAnalyzer"},
        ],
    }
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.NLU)
    train_nodes = graph.train_schema.nodes
    predict_nodes = graph.predict_schema.nodes
    name = "bot.nlu.sentiment.SentimentAnalyzer3"
    assert train_nodes[f"train_{name}"].fn == "train"
    assert f"run_{name}" not in train_nodes  # never re-processes NLU training data
    assert predict_nodes[f"run_{name}"].fn == "process"
    assert graph.nlu_target == "run_RegexMessageHandler"
    assert predict_nodes["run_RegexMessageHandler"].needs["messages"] == f"run_{name}"


def test_parse_message_through_trained_rasa_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rasa train nlu` + Agent.parse_message (what /model/parse and trackers use)."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))

    (tmp_path / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: sentiment-test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n"
        "  - name: bot.nlu.featurizers.SentenceEncoderFeaturizer\n"
        "  - name: LogisticRegressionClassifier\n"
        "  - name: bot.nlu.sentiment.SentimentAnalyzer\n"
        "    max_goemotions_examples: 3000\n"
    )
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: ask_bill\n  examples: |\n'
        "    - I have a question about my bill\n    - what is this charge\n"
        "- intent: complain\n  examples: |\n    - you charged me twice\n    - refund me now\n"
    )
    model_path = train_nlu(
        str(tmp_path / "config.yml"), str(tmp_path / "nlu.yml"), str(tmp_path / "models")
    )
    agent = Agent.load(model_path)
    parsed = asyncio.run(agent.parse_message("WHY DID YOU CHARGE ME TWICE?!"))
    assert parsed[SENTIMENT_KEY]["label"] == "negative"
    assert parsed[SENTIMENT_KEY]["tone"] in ("frustrated", "angry")
    parsed = asyncio.run(agent.parse_message("hi, I have a question about my bill"))
    assert parsed[SENTIMENT_KEY]["tone"] == "calm"

