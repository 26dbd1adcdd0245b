"""Agent accounts (Argon2, presence) and handoff claims (exactly one winner), on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.agents import accounts
from bot.billing.db import session_scope
from bot.billing.errors import InvalidRequest, NotFound
from bot.billing.handoffs import claim_handoff, count_waiting, create_handoff, get_handoff, open_handoff_for
from bot.billing.models import AgentAccount

THREADS = 8


def test_passwords_are_stored_as_argon2_hashes_and_checked(db: str) -> None:
    accounts.create_agent("jdoe", "Jane Doe", "correct horse battery", database_url=db)
    with session_scope(db) as s:
        stored = s.execute(select(AgentAccount.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.authenticate("jdoe", "correct horse battery", database_url=db).display_name == "Jane Doe"
    assert accounts.authenticate("JDoe ", "correct horse battery", database_url=db) is not None
    assert accounts.authenticate("jdoe", "wrong horse battery", database_url=db) is None
    assert accounts.authenticate("nobody", "correct horse battery", database_url=db) is None
    with pytest.raises(InvalidRequest):
        accounts.create_agent("jdoe", "Again", "another long password", database_url=db)
    with pytest.raises(InvalidRequest):
        accounts.create_agent("short", "Short", "2short", database_url=db)


def test_presence_counts_online_agents_seen_recently(db: str) -> None:
    accounts.create_agent("a1", "A One", "password-one-1", database_url=db)
    accounts.create_agent("a2", "A Two", "password-two-2", database_url=db)
    assert accounts.agents_online(database_url=db) == 0
    accounts.set_presence("a1", True, database_url=db)
    assert accounts.agents_online(database_url=db) == 1
    later = accounts.get_agent("a1", database_url=db).last_seen_at + accounts.STALE_AFTER + timedelta(seconds=1)
    assert accounts.agents_online(now=later, database_url=db) == 0
    accounts.set_presence("a1", False, database_url=db)
    assert accounts.agents_online(database_url=db) == 0


def test_concurrent_claims_have_exactly_one_winner(db: str) -> None:
    handoff = create_handoff(conversation_id="c-claim", reason_code="customer_request", context={},
                             account_number="ACC-1004", database_url=db)
    assert count_waiting(database_url=db) >= 1
    barrier = threading.Barrier(THREADS)

    def claim(i: int):
        barrier.wait(timeout=30)
        return claim_handoff(handoff.reference, f"agent{i}", database_url=db)

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(claim, range(THREADS)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    stored = get_handoff(handoff.reference, database_url=db)
    assert stored.status == "assigned" and stored.assigned_agent == winners[0].assigned_agent
    assert stored.claimed_at is not None
    assert open_handoff_for("c-claim", database_url=db).reference == handoff.reference
    with pytest.raises(NotFound):
        claim_handoff("HND-NOPE", "agent0", database_url=db)
