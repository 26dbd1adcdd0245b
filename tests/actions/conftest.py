"""Fixtures for the custom actions: a private seeded billing database and rasa-sdk trackers."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.dialogue.conftest import _copy, default_policy, template_path  # noqa: F401 - shared fixtures
from bot.billing.db import dispose_engines


@pytest.fixture
def db(template_path, tmp_path, monkeypatch) -> Iterator[str]:  # noqa: F811
    """A private copy of the seeded database; the actions find it through DATABASE_URL."""
    url = _copy(template_path, tmp_path / "actions.db")
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    dispose_engines(url)


def user(text: str, intent: str, entities: Sequence[Dict[str, Any]] = (), sentiment: Optional[dict] = None
         ) -> Dict[str, Any]:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": list(entities)}
    if sentiment:
        parse["sentiment"] = sentiment
    return {"event": "user", "text": text, "parse_data": parse}


def bot(text: str, **metadata: Any) -> Dict[str, Any]:
    return {"event": "bot", "text": text, "metadata": metadata}


def tracker(events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None,
            sender: Optional[str] = None) -> Tracker:
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker(sender or "conv-" + uuid.uuid4().hex[:8], dict(slots or {}), latest, events, False, None, {},
                   "action_listen")


def verified(account: str, **slots: Any) -> Dict[str, Any]:
    return {"verified": True, "account_number": account, "customer_name": "", **slots}


def run(action: Action, track: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, {}))
    return dispatcher.messages, events


def slots_of(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
