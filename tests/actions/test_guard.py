"""Where billing actions run: on the action server's loop, or in ACTION_WORKER_THREADS worker threads
with the same results (actions/guard.py)."""
from __future__ import annotations

import threading
from typing import Any, Dict, Iterator, List, Text

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import guard
from actions.guard import BillingAction
from tests.actions.conftest import run, tracker, user
from bot.billing.db import read_scope
from sqlalchemy import text
from tests.actions.test_dispute_actions import MARIA_OPEN, review


class WhereAmI(BillingAction):
    def name(self) -> Text:
        return "action_where_am_i"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
                  ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(text=threading.current_thread().name)
        return []


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(n: str) -> None:
        monkeypatch.setenv(guard.WORKER_THREADS_ENV, n)
        monkeypatch.setattr(guard, "_workers", None)

    yield use
    if guard._workers is not None:
        guard._workers.shutdown()


def test_actions_run_on_the_loop_by_default_and_in_workers_when_asked(threads: Any) -> None:
    track = tracker([user("hi", "greet")])
    threads("0")
    assert run(WhereAmI(), track)[0][0]["text"] == threading.current_thread().name
    threads("2")
    assert run(WhereAmI(), track)[0][0]["text"].startswith("billing-action")


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_dispute_review_reads_and_writes_the_ledger_from_either(db: str, threads: Any, workers: str) -> None:
    threads(workers)
    track, messages, _, slots = review("ACC-1001", MARIA_OPEN)
    assert slots["stage"] == "choosing" and [o["id"] for o in slots["offers"]] == ["refund:INV-0142", "credit:INV-0142"]
    assert "That's our mistake, and I'm sorry." in messages[0]["text"]
    with read_scope(db) as session:  # what it told Maria is in the interaction log
        logged = session.execute(text("SELECT text FROM interaction_log WHERE conversation_id = :c AND actor = 'bot'"),
                                 {"c": track.sender_id}).scalars().all()
    assert len(logged) == 1 and logged[0].startswith(messages[0]["text"])


@pytest.mark.parametrize("value", ["two", "-"])
def test_a_bad_thread_count_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(guard.WORKER_THREADS_ENV, value)
    with pytest.raises(ValueError, match=guard.WORKER_THREADS_ENV):
        guard.worker_threads()
