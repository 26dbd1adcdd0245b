"""Outcome figures from a stream of tracker events, and the store's at-most-once keeping."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.analytics.outcomes import summary
from bot.analytics.store import add_events, load_events


def user(sender: str, ts: float, text: str, score: float) -> dict:
    return {"sender_id": sender, "event": "user", "timestamp": ts, "text": text,
            "parse_data": {"sentiment": {"score": score}}}


def slot(sender: str, ts: float, name: str, value) -> dict:
    return {"sender_id": sender, "event": "slot", "timestamp": ts, "name": name, "value": value}


def action(sender: str, ts: float, name: str) -> dict:
    return {"sender_id": sender, "event": "action", "timestamp": ts, "name": name}


STREAM = [
    # maria: upset, refund executed after 40 s, calm at the end, rates 5
    user("maria", 100.0, "you charged me twice!!", -0.8),
    slot("maria", 120.0, "pending_offer", {"kind": "refund", "id": "refund:INV-0142"}),
    user("maria", 139.0, "yes", 0.3),
    action("maria", 140.0, "action_execute_offer"), slot("maria", 140.1, "stage", "rating"),
    user("maria", 150.0, "5", 0.2), slot("maria", 150.1, "csat", 5.0),
    # tom: handed off, never resolved
    user("tom", 200.0, "I dispute the $2,500 charge", -0.4),
    {"sender_id": "tom", "event": "pause", "timestamp": 210.0},
    # liam: said no to the only offer: executing never reached the rating
    user("liam", 300.0, "my bill is wrong", -0.1),
    slot("liam", 310.0, "pending_offer", {"kind": "human_review"}),
    user("liam", 320.0, "no", 0.0), action("liam", 321.0, "action_decline_offer"),
    slot("liam", 321.1, "stage", "rating"),
]


def test_summary_counts_resolutions_escalations_sentiment_and_csat() -> None:
    figures = summary(STREAM, {"tom": "authority"})
    assert figures["conversations"] == 3
    assert figures["resolutions_by_kind"] == {"refund": 1}
    assert figures["escalations_by_reason"] == {"authority": 1}
    assert figures["median_seconds_to_resolution"] == 40.0
    assert figures["upset_at_start"] == 2 and figures["deescalation_rate"] == 0.5
    assert figures["csat_mean"] == 5.0 and figures["csat_distribution"] == {"5": 1}


@pytest.fixture(params=["sqlite", "postgresql"])
def analytics_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'analytics.db'}"
        return
    import uuid

    import sqlalchemy as sa

    from bot.analytics.store import engine_for

    name = "analyticstest_" + uuid.uuid4().hex[:8]
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_store_keeps_each_event_once(analytics_url: str) -> None:
    url = analytics_url
    assert add_events(STREAM, url) == len(STREAM)
    assert add_events(STREAM[:3], url) == 0  # redelivered by the broker: nothing new
    assert add_events([*STREAM[:2], {**STREAM[0], "timestamp": 1.5}], url) == 1  # one new among old ones
    assert [e["timestamp"] for e in load_events(url)] == sorted([1.5, *(e["timestamp"] for e in STREAM)])
    assert len(load_events(url, ["tom"])) == 2
    assert load_events(url, ["tom"])[0] in STREAM
