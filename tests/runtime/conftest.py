"""The trained model, loaded once for the runtime tests that need it."""
from __future__ import annotations

from typing import Any

import pytest

from tests.nlu.test_intents import _latest_model


@pytest.fixture(scope="session")
def trained_agent() -> Any:
    from rasa.core.agent import Agent

    import bot.runtime  # noqa: F401  the server's patches

    return Agent.load(model_path=str(_latest_model()))
