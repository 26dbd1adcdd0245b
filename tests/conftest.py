"""Shared fixtures: the running servers (one stack per test session) and the fake Twilio API."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER, FakeTwilioApi
from tests.servers import Stack, start_stack


@pytest.fixture(scope="session")
def twilio_api() -> Iterator[FakeTwilioApi]:
    """A local stand-in for Twilio's REST API that records every SMS the assistant sends."""
    with FakeTwilioApi() as api:
        yield api


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, twilio_api: FakeTwilioApi) -> Iterator[Stack]:
    """Action server + Rasa server on free ports, with a freshly seeded billing database.

    The SMS channel is configured against the fake Twilio API.
    """
    workdir = tmp_path_factory.mktemp("stack")
    running = start_stack(
        workdir,
        extra_env={
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_NUMBER": TWILIO_NUMBER,
            "TWILIO_API_BASE_URL": twilio_api.url,
            "TWILIO_PUBLIC_URL": "",
            "CHANNEL_STATE_DB": str(workdir / "channels.db"),
            # One test client sends bursts (the adversarial suite) on each channel; the per-channel limit
            # itself is tested with a small limit in tests/channels/test_rate_limits.py. Per-sender limits
            # stay at their default (tests/security/test_rate_limits_stack.py).
            "RATE_LIMIT_PER_CHANNEL_PER_MINUTE": "100000",
        },
    )
    yield running
    running.stop()


@pytest.fixture
def fresh_ledger(stack: Stack) -> Stack:
    """The shared stack with its billing database re-seeded: the demo accounts as new (e.g. Maria's
    double charge not yet refunded), whatever earlier tests did."""
    stack.reseed()
    return stack
