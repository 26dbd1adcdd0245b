"""The trained model's graph run node by node gives what dask's scheduler gives."""
from __future__ import annotations

import asyncio

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner

from bot.runtime import graph_runner
from tests.runtime.test_states_cache import TRACKERS

MESSAGES = ["you charged me twice!!", "hi, I have a question about my bill", "INV0142 is wrong, $1,240.00??",
            "i want a human NOW", "can i pay in installments", "yes", "no thanks bye", "ACC-1001 94110",
            "/affirm", "", "zzzz qqq", "THIS IS A SCAM I WILL SUE", "what do i owe by the 3rd"]


def both(call):  # type: ignore[no-untyped-def]
    graph_runner.uninstall()
    try:
        with_dask = call()
    finally:
        graph_runner.install()
    return with_dask, call()


def test_installed_in_the_server() -> None:
    import bot.runtime  # noqa: F401

    assert DaskGraphRunner.run is graph_runner.run


def test_parsing_gives_the_same_result(trained_agent) -> None:  # type: ignore[no-untyped-def]
    for text in MESSAGES:
        with_dask, ours = both(lambda: asyncio.run(trained_agent.parse_message(text)))
        assert ours == with_dask, text


def test_predictions_are_the_same_for_every_story_and_rule_prefix(trained_agent) -> None:  # type: ignore[no-untyped-def]
    processor = trained_agent.processor
    checked = 0
    for tracker in TRACKERS:
        for end in range(1, len(tracker.events) + 1, 3):
            until = tracker.events[end - 1].timestamp
            # a fresh tracker per call: predicting consumes a follow-up action on the tracker
            with_dask, ours = both(lambda: processor._predict_next_with_tracker(tracker.travel_back_in_time(until)))
            assert ours == with_dask
            assert (ours.policy_name, ours.max_confidence) == (with_dask.policy_name, with_dask.max_confidence)
            checked += 1
    assert checked > 100


def test_an_input_that_clashes_with_a_node_name_is_refused(trained_agent) -> None:  # type: ignore[no-untyped-def]
    runner, target = trained_agent.processor.graph_runner, trained_agent.processor.model_metadata.nlu_target
    for implementation in (graph_runner._ORIGINAL, graph_runner.run):
        with pytest.raises(GraphRunError):
            implementation(runner, inputs={"__message__": target}, targets=[target])
