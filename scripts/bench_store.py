"""CPU per turn of the tracker store and of the first prediction's dialogue states, kept vs loaded.

What ``bot.runtime.store.BoundedSQLTrackerStore`` costs the Rasa server per message - ``retrieve``
at the start of a turn, ``save`` at the end - and what the first prediction of the turn costs to
build the dialogue states (``past_states``, as MemoizationPolicy and RulePolicy ask for them), on
PostgreSQL, for sessions of 5, 25 and 50 user messages, with ``cache_trackers: 0`` (every turn
loads and deserialises the session, as Rasa's ``SQLTrackerStore`` does) and with the session kept
after saving. The events have the shape of this assistant's: a message with its intent ranking,
entities and sentiment, the predicted action, slots, the bot's reply, ``action_listen``.

End-to-end runs (``make bench``) vary by 10-20 % between runs on these machines, more than this
part of a turn; this script measures the part itself, in one process, interleaved.

    PYTHONPATH=. .venv/bin/python scripts/bench_store.py [--rounds 40] [--lengths 5,25,50]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import sqlalchemy as sa  # noqa: E402
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered  # noqa: E402
from rasa.shared.core.trackers import DialogueStateTracker  # noqa: E402

from bot.runtime.store import BoundedSQLTrackerStore  # noqa: E402  (installs bot.runtime's patches)

ROOT = Path(__file__).resolve().parents[1]
# the tracker store's server (.env: TRACKER_PG_*); the script creates and drops its own database
PG = {"url": os.environ.get("TRACKER_PG_HOST") or "127.0.0.1", "port": int(os.environ.get("TRACKER_PG_PORT") or 5432),
      "username": os.environ.get("TRACKER_PG_USER") or "postgres", "password": os.environ.get("TRACKER_PG_PASSWORD") or None}
INTENTS = ["dispute_charge", "charged_twice", "request_refund", "ask_balance", "inform", "affirm", "deny",
           "thank", "greet", "complain"]


def turn_events(i: int) -> List[Event]:
    """One turn as this assistant stores it (sizes as in ``make bench`` conversations)."""
    intent = INTENTS[i % len(INTENTS)]
    ranking = [{"name": name, "confidence": round(0.9 / (k + 1), 4)} for k, name in enumerate(INTENTS)]
    parse_data: Dict[str, Any] = {
        "intent": {"name": intent, "confidence": 0.91},
        "entities": [{"entity": "invoice_number", "value": f"INV-{i:04d}", "start": 10, "end": 18,
                      "extractor": "BillingEntityExtractor"}],
        "text": f"about invoice INV-{i:04d}, you charged me twice",
        "message_id": uuid.uuid4().hex,
        "metadata": {},
        "intent_ranking": ranking,
        "sentiment": {"label": "negative", "score": -0.42, "tone": "frustrated"},
    }
    return [
        UserUttered(parse_data["text"], parse_data["intent"], parse_data["entities"], parse_data),
        SlotSet("tone", "frustrated"),
        SlotSet("sentiment_score", -0.42),
        ActionExecuted("action_explain_invoice", policy="RulePolicy", confidence=1.0),
        SlotSet("invoice_number", f"INV-{i:04d}"),
        BotUttered(f"INV-{i:04d} charged the Standard plan twice. I can refund $49.00 to your card.",
                   {"buttons": None, "custom": None}, {"utter_action": "utter_offer_refund"}),
        ActionExecuted(ACTION_LISTEN_NAME, policy="RulePolicy", confidence=1.0),
    ]


def start_events() -> List[Event]:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


async def one_turn(store: BoundedSQLTrackerStore, domain: Domain, sender: str, i: int) -> Dict[str, float]:
    """retrieve, the message, the first prediction's states, the rest of the turn, save."""
    t0 = time.process_time()
    tracker = await store.retrieve(sender)
    t1 = time.process_time()
    events = turn_events(i)
    tracker.update(events[0])
    t2 = time.process_time()
    tracker.past_states(domain)  # MemoizationPolicy
    tracker.past_states(domain, ignore_rule_only_turns=True, rule_only_data={})  # RulePolicy
    t3 = time.process_time()
    for event in events[1:]:
        tracker.update(event)
    t4 = time.process_time()
    await store.save(tracker)
    t5 = time.process_time()
    return {"retrieve": t1 - t0, "states": t3 - t2, "save": t5 - t4}


async def conversation(store: BoundedSQLTrackerStore, domain: Domain, sender: str, turns: int) -> None:
    """A conversation of ``turns`` messages, each handled like a measured one."""
    tracker = DialogueStateTracker(sender, domain.slots)
    for event in start_events():
        tracker.update(event)
    await store.save(tracker)
    for i in range(turns):
        await one_turn(store, domain, sender, i)


async def measure(rounds: int, lengths: List[int]) -> None:
    domain = Domain.load(str(ROOT / "bot" / "domain"))
    name = "bench_store_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine(sa.engine.URL.create("postgresql", host=PG["url"], port=PG["port"], username=PG["username"],
                                                  password=PG["password"], database="postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    config = dict(dialect="postgresql", **PG, db=name)
    try:
        stores = {size: BoundedSQLTrackerStore(domain=domain, max_session_turns=10_000, cache_trackers=size,
                                               synchronous_commit="off", **config) for size in (0, 512)}
        print(f"{'session':>8} {'cache':>6} {'events':>7} {'retrieve':>9} {'states':>8} {'save':>7} {'total':>7}  "
              "(CPU ms per turn, median of interleaved turns)")
        for turns in lengths:
            # `rounds` conversations of `turns` messages per setting, then one more message in each,
            # measured, the settings interleaved
            senders = {size: [f"s{size}-{turns}-{k}" for k in range(rounds)] for size in stores}
            for size, store in stores.items():
                for sender in senders[size]:
                    await conversation(store, domain, sender, turns)
            samples: Dict[int, List[Dict[str, float]]] = {size: [] for size in stores}
            for k in range(rounds):
                for size, store in stores.items():
                    samples[size].append(await one_turn(store, domain, senders[size][k], turns))
            for size in stores:
                parts = {key: statistics.median(s[key] for s in samples[size]) * 1000
                         for key in ("retrieve", "states", "save")}
                tracker = await stores[size].retrieve(senders[size][0])
                print(f"{turns:>8} {('off' if size == 0 else 'on'):>6} {len(tracker.events):>7} "
                      f"{parts['retrieve']:>9.3f} {parts['states']:>8.3f} {parts['save']:>7.3f} "
                      f"{sum(parts.values()):>7.3f}")
        for store in stores.values():
            store.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="conversations per session length and setting")
    parser.add_argument("--lengths", default="5,25,50", help="session lengths (user messages) to measure at")
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, [int(x) for x in args.lengths.split(",")]))


if __name__ == "__main__":
    main()
