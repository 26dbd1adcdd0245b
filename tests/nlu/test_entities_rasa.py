"""BillingEntityExtractor through Rasa 3.6's component / graph API."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.entities import BillingEntityExtractor

CLASS_PATH = "bot.nlu.entities.BillingEntityExtractor"
TODAY = "2026-10-10"


def make(tmp_path: Path, **config) -> BillingEntityExtractor:
    config.setdefault("reference_date", TODAY)
    return BillingEntityExtractor.create(
        {**BillingEntityExtractor.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("billing_entities"),
        ExecutionContext(GraphSchema({})),
    )


def run(component: BillingEntityExtractor, text: str, entities=None) -> list:
    message = Message(data={"text": text, **({"entities": entities} if entities else {})})
    # a tokenizer before us must not matter (we work on the raw text)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process([message])
    component.process([message])
    return message.get("entities")


def test_registered_as_untrainable_entity_extractor():
    registered = DefaultV1Recipe._from_registry(CLASS_PATH)
    assert registered.clazz is BillingEntityExtractor
    assert registered.types == {DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR}
    assert registered.is_trainable is False


def test_process_sets_offsets_values_extractor_confidence(tmp_path):
    text = "I was charged $1,240.00 on invoice number 0142 last Tuesday, zip 94110"
    entities = run(make(tmp_path), text)
    assert [
        (e["entity"], text[e["start"] : e["end"]], e["value"]) for e in entities
    ] == [
        ("amount", "$1,240.00", {"amount": "1240.00", "currency": "USD"}),
        ("invoice_number", "0142", "INV-0142"),
        ("date", "last Tuesday", "2026-10-06"),
        ("postal_code", "94110", "94110"),
    ]
    for e in entities:
        assert e["extractor"] == "BillingEntityExtractor"
        assert e["confidence"] == 1.0


def test_message_without_entities_gets_empty_list(tmp_path):
    assert run(make(tmp_path), "I have 2 questions") == []


def test_same_type_overlap_from_other_extractor_is_replaced(tmp_path):
    text = "refund $49 please"
    diet = {"entity": "amount", "start": 8, "end": 10, "value": "49", "extractor": "DIETClassifier"}
    other = {"entity": "mood", "start": 0, "end": 6, "value": "refund", "extractor": "DIETClassifier"}
    entities = run(make(tmp_path), text, [diet, other])
    assert [(e["entity"], e["extractor"]) for e in entities] == [
        ("mood", "DIETClassifier"),
        ("amount", "BillingEntityExtractor"),
    ]


def test_keep_existing_does_not_duplicate(tmp_path):
    text = "refund $49 please"
    diet = {"entity": "amount", "start": 8, "end": 10, "value": "49", "extractor": "DIETClassifier"}
    entities = run(make(tmp_path, on_overlap="keep_existing"), text, [diet])
    assert entities == [diet]


def test_dimensions_filter(tmp_path):
    entities = run(make(tmp_path, dimensions=["date"]), "$49 on Oct 3")
    assert [e["entity"] for e in entities] == ["date"]


def test_timezone_today(tmp_path):
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo("Pacific/Kiritimati")
    except Exception:  # no tz database on this machine
        pytest.skip("no IANA time zone data")
    component = make(tmp_path, reference_date=None, timezone="Pacific/Kiritimati")
    expected = datetime.now(ZoneInfo("Pacific/Kiritimati")).date().isoformat()
    assert run(component, "today")[0]["value"] == expected


@pytest.mark.parametrize(
    "config",
    [{"dimensions": ["colour"]}, {"on_overlap": "merge"}, {"timezone": "Mars/Olympus"}],
)
def test_invalid_config(tmp_path, config):
    with pytest.raises(InvalidConfigException):
        make(tmp_path, **config)


def test_runs_in_rasa_predict_graph(tmp_path):
    """The recipe wires it after any tokenizer; run the predict graph with Dask."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.data import TrainingType

    config = {
        "language": "en",
        "recipe": "default.v1",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": CLASS_PATH, "reference_date": TODAY},
        ],
    }
    schema = (
        DefaultV1Recipe()
        .graph_config_for_recipe(config, {}, training_type=TrainingType.NLU)
        .predict_schema
    )
    target = next(name for name in schema.nodes if "BillingEntityExtractor" in name)
    runner = DaskGraphRunner(
        graph_schema=schema,
        model_storage=LocalModelStorage(tmp_path),
        execution_context=ExecutionContext(schema),
    )
    text = "call (415) 555-0101 about inv 142"
    result = runner.run(inputs={"__message__": [UserMessage(text)]}, targets=[target])
    entities = result[target][0].get("entities")
    assert [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in entities] == [
        ("phone", "+14155550101", "(415) 555-0101"),
        ("invoice_number", "INV-0142", "142"),
    ]
