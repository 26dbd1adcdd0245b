"""Interaction log and handoffs."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.billing.errors import InvalidRequest, NotFound
from bot.billing.handoffs import create_handoff, get_handoff, list_handoffs, update_handoff
from bot.billing.interactions import conversation_log, customer_interactions, link_conversation, log_interaction


def test_interaction_log_ties_conversation_to_customer_once_known(db: str) -> None:
    t = datetime(2025, 1, 1, 10, 0)
    log_interaction(conversation_id="c1", sender_id="web-77", channel="rest", actor="customer",
                    text="I was charged twice", created_at=t, database_url=db)
    log_interaction(conversation_id="c1", actor="bot", actor_id="rasa", text="Can I have your account number?",
                    created_at=t.replace(second=1), database_url=db)
    log_interaction(conversation_id="other", actor="customer", text="hi", created_at=t, database_url=db)
    assert link_conversation("c1", "ACC-1001", database_url=db) == 2
    log_interaction(conversation_id="c1", actor="agent", actor_id="agent-42", text="Refund issued",
                    account_number="acc 1001", created_at=t.replace(second=2), database_url=db)
    log = conversation_log("c1", database_url=db)
    assert [(i.actor, i.account_number) for i in log] == [
        ("customer", "ACC-1001"), ("bot", "ACC-1001"), ("agent", "ACC-1001")]
    assert log[0].sender_id == "web-77" and log[1].sender_id == "c1"
    assert [i.text for i in customer_interactions("ACC-1001", database_url=db)] == [
        "Refund issued", "Can I have your account number?", "I was charged twice"]
    assert conversation_log("other", database_url=db)[0].account_number is None
    with pytest.raises(InvalidRequest):
        log_interaction(conversation_id="c1", actor="robot", text="?", database_url=db)
    with pytest.raises(NotFound):
        link_conversation("c1", "ACC-9999", database_url=db)


def test_a_message_for_an_unknown_account_is_refused_and_not_logged(db: str) -> None:
    with pytest.raises(NotFound):
        log_interaction(conversation_id="c2", actor="bot", text="x", account_number="ACC-9999", database_url=db)
    with pytest.raises(NotFound):
        log_interaction(conversation_id="c2", actor="bot", text="x", account_number="???", database_url=db)
    assert conversation_log("c2", database_url=db) == []
    first = log_interaction(conversation_id="c2", actor="bot", text="one", account_number="ACC-1001",
                            details={"offer": "refund:INV-0142", "amount": "49.00"}, database_url=db)
    second = log_interaction(conversation_id="c2", actor="customer", text="two", database_url=db)
    assert second > first  # the ids the inserts return are the rows'
    log = conversation_log("c2", database_url=db)
    assert [(i.text, i.account_number) for i in log] == [("one", "ACC-1001"), ("two", None)]
    assert [i.id for i in log] == [first, second]
    from sqlalchemy import select

    from bot.billing.db import read_scope
    from bot.billing.models import Interaction
    with read_scope(db) as session:
        assert session.execute(select(Interaction.details).where(Interaction.id == first)).scalar_one() == {
            "offer": "refund:INV-0142", "amount": "49.00"}


def test_handoff_crud(db: str) -> None:
    h = create_handoff(conversation_id="c9", reason_code="above_authority", account_number="ACC-1004",
                       summary="Disputes $2,500.00 equipment charge on INV-0455",
                       context={"invoice": "INV-0455", "amount": "2500.00"}, database_url=db)
    assert (h.status, h.account_number, h.context["invoice"]) == ("open", "ACC-1004", "INV-0455")
    assert h.reference.startswith("HND-")
    create_handoff(conversation_id="c10", reason_code="customer_request", context={}, database_url=db)
    assert [x.reference for x in list_handoffs(status="open", account_number="ACC-1004", database_url=db)] == [
        h.reference]
    assert len(list_handoffs(status="open", database_url=db)) == 2
    assigned = update_handoff(h.reference, status="assigned", assigned_agent="agent-42", database_url=db)
    assert (assigned.status, assigned.assigned_agent, assigned.resolved_at) == ("assigned", "agent-42", None)
    done = update_handoff(h.reference, status="resolved", note="credit note issued",
                          context_update={"credit": "REF-ABCDEFGH"}, database_url=db)
    assert done.resolved_at is not None and done.context == {"invoice": "INV-0455", "amount": "2500.00",
                                                             "credit": "REF-ABCDEFGH"}
    assert get_handoff(h.reference, database_url=db) == done
    assert [x.reference for x in list_handoffs(status="open", database_url=db)] != [h.reference]
    with pytest.raises(InvalidRequest):
        create_handoff(conversation_id="c9", reason_code="bored", context={}, database_url=db)
    with pytest.raises(InvalidRequest):
        update_handoff(h.reference, status="lost", database_url=db)
    with pytest.raises(NotFound):
        update_handoff("HND-NOPE", status="resolved", database_url=db)
