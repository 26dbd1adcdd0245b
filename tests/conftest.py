"""Shared fixtures: the running servers (one stack per test session)."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.servers import Stack, start_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Action server + Rasa server on free ports, with a freshly seeded billing database."""
    running = start_stack(tmp_path_factory.mktemp("stack"))
    yield running
    running.stop()
