"""The dispute actions with rasa-sdk trackers on a private seeded billing database."""
from __future__ import annotations

from decimal import Decimal

from actions.csat import ActionCsat
from actions.disputes import ActionDeclineOffer, ActionExecuteOffer, ActionReviewCase, ActionSelectOffer, pick_offer
from actions.escalation import ActionEscalate
from bot.billing import lookup
from bot.billing.handoffs import list_handoffs
from bot.billing.interactions import conversation_log
from tests.actions.conftest import bot, run, slots_of, tracker, user, verified

MARIA_OPEN = [user("I was charged twice", "charged_twice"), user("INV-0142", "inform"),
              user("maria.lopez@example.com", "inform")]


def review(account: str, opening: list, **slots):
    track = tracker(opening, verified(account, **slots))
    messages, events = run(ActionReviewCase(), track)
    return track, messages, events, slots_of(events)


def follow(previous_slots: dict, account: str, events: list, sender: str, **extra):
    slots = verified(account, **{**previous_slots, **extra})
    return tracker(events, slots, sender=sender)


def test_maria_gets_refund_and_credit_buttons(db):
    _, messages, _, slots = review("ACC-1001", MARIA_OPEN)
    assert slots["stage"] == "choosing" and slots["case_intent"] == "charged_twice"
    assert [o["id"] for o in slots["offers"]] == ["refund:INV-0142", "credit:INV-0142"]
    assert "That's our mistake, and I'm sorry." in messages[0]["text"]
    payloads = [b["payload"] for b in messages[-1]["buttons"]]
    assert payloads == ['/inform{"offer_id": "refund:INV-0142"}', '/inform{"offer_id": "credit:INV-0142"}']


def choose(db, text, intent="inform", entities=()):
    track, _, _, slots = review("ACC-1001", MARIA_OPEN)
    chosen = tracker(MARIA_OPEN + [user(text, intent, entities)], verified("ACC-1001", **slots), track.sender_id)
    messages, events = run(ActionSelectOffer(), chosen)
    return chosen, messages, {**slots, **slots_of(events)}


def test_button_choice_is_confirmed_before_anything_changes(db):
    _, messages, slots = choose(db, "/inform", entities=[{"entity": "offer_id", "value": "refund:INV-0142"}])
    assert slots["stage"] == "confirming" and slots["pending_offer"]["id"] == "refund:INV-0142"
    assert messages[0]["text"].startswith("To confirm: I'll refund $49.00 to your Visa ending 4242")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert not [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.kind == "refund"]


def test_an_offer_that_was_not_given_is_refused(db):
    _, messages, slots = choose(db, "/inform", entities=[{"entity": "offer_id", "value": "refund:INV-0610"}])
    assert slots.get("pending_offer") is None and slots["stage"] == "choosing"
    assert "isn't one of the options" in messages[0]["text"]


def test_words_pick_an_offer_only_when_unambiguous(db):
    assert choose(db, "as a credit on my next bill")[2]["pending_offer"]["id"] == "credit:INV-0142"
    assert choose(db, "to my card")[2]["pending_offer"]["id"] == "refund:INV-0142"
    assert choose(db, "the second one")[2]["pending_offer"]["id"] == "credit:INV-0142"
    _, messages, slots = choose(db, "hmm not sure", "inform")
    assert slots.get("pending_offer") is None and messages[0]["text"] == "Which of these would you like?"
    _, _, slots = choose(db, "yes", "affirm")  # two options: a bare yes is not a choice
    assert slots.get("pending_offer") is None


def test_pick_offer_helper_with_one_offer():
    assert pick_offer("ok", [], "affirm") is None


def test_yes_executes_once_and_a_second_yes_changes_nothing(db):
    chosen, _, slots = choose(db, "to my card")
    first = tracker(MARIA_OPEN + [user("yes", "affirm")], verified("ACC-1001", **slots), chosen.sender_id)
    messages, events = run(ActionExecuteOffer(), first)
    assert messages[0]["text"].startswith("Done. I've issued a refund of $49.00 to your Visa ending 4242")
    assert "REF-" in messages[0]["text"] and "should reach" in messages[1]["text"]
    assert messages[-1]["buttons"][0]["payload"] == '/inform{"csat": 1}' and slots_of(events)["stage"] == "rating"
    again, _ = run(ActionExecuteOffer(), first)
    assert again[0]["text"].startswith("That's already done, so nothing has changed")
    refunds = [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.kind == "refund"]
    assert len(refunds) == 1 and refunds[0].amount == Decimal("49.00")


def test_a_pending_offer_not_among_the_offers_is_not_executed(db):
    chosen, _, slots = choose(db, "to my card")
    forged = dict(slots["pending_offer"], id="refund:INV-9999")
    track = tracker(MARIA_OPEN + [user("yes", "affirm")], verified("ACC-1001", **{**slots, "pending_offer": forged}),
                    chosen.sender_id)
    messages, _ = run(ActionExecuteOffer(), track)
    assert "can't do that" in messages[0]["text"]
    assert not [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.kind == "refund"]


def test_no_to_the_refund_offers_the_credit_again(db):
    chosen, _, slots = choose(db, "to my card")
    track = tracker(MARIA_OPEN + [user("no", "deny")], verified("ACC-1001", **slots), chosen.sender_id)
    messages, events = run(ActionDeclineOffer(), track)
    new = slots_of(events)
    assert new["stage"] == "choosing" and new["offers_declined"] == ["refund:INV-0142"]
    assert "haven't changed anything" in messages[0]["text"] and len(messages[0]["buttons"]) == 2


def test_james_single_offer_waits_for_yes(db):
    opening = [user("why was I charged a late fee?", "dispute_charge")]
    _, messages, _, slots = review("ACC-1002", opening)
    assert slots["stage"] == "confirming" and slots["pending_offer"]["id"] == "fee_reversal:INV-0207"
    assert messages[-1]["text"].endswith("Shall I go ahead?")
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/affirm", "/deny"]


def priya(db, text):
    opening = [user("I need a payment plan", "request_payment_plan")]
    track, _, _, slots = review("ACC-1003", opening)
    assert [o["id"] for o in slots["offers"]] == ["plan:2", "plan:4", "plan:6"]
    asked = tracker(opening + [user(text, "request_payment_plan")], verified("ACC-1003", **slots), track.sender_id)
    messages, events = run(ActionSelectOffer(), asked)
    return asked, messages, {**slots, **slots_of(events)}


def test_priya_can_ask_for_three_months(db):
    asked, messages, slots = priya(db, "can I pay over 3 months?")
    assert messages[0]["text"].startswith("Yes, I can spread $1,240.00 over 3 months")
    assert slots["pending_offer"]["id"] == "plan:3" and "plan:3" in [o["id"] for o in slots["offers"]]
    track = tracker([user("yes", "affirm")], verified("ACC-1003", **slots), asked.sender_id)
    done, _ = run(ActionExecuteOffer(), track)
    assert "REF-" in done[0]["text"]
    (plan,) = lookup.list_payment_plans("ACC-1003", database_url=db)
    assert len(plan.installments) == 3


def test_priya_twelve_months_hears_the_limits(db):
    _, messages, slots = priya(db, "can I pay over 12 months")
    assert "12 months isn't something I can set up here" in messages[0]["text"]
    assert slots["pending_offer"]["id"] == "plan:6" and slots["stage"] == "confirming"


def test_tom_is_handed_off_with_the_packet_and_paused(db):
    track, messages, events, slots = review("ACC-1004", [user("I'm disputing the $2,500 equipment charge",
                                                              "dispute_charge")])
    assert any(e["event"] == "pause" for e in events)
    (handoff,) = list_handoffs(conversation_id=track.sender_id, database_url=db)
    assert handoff.reason_code == "above_authority" and handoff.account_number == "ACC-1004"
    assert handoff.context["case"]["invoice_number"] == "INV-0455"
    assert handoff.context["reason_code"] == "authority" and "sentiment" in handoff.context
    assert slots["handoff_reference"] == handoff.reference and handoff.reference in messages[-1]["text"]
    assert "call you back" in messages[-1]["text"]


def test_liam_no_to_the_review_changes_nothing(db):
    track, messages, _, slots = review("ACC-1006", [user("I think my bill is wrong", "dispute_charge")])
    assert slots["pending_offer"]["id"] == "review:INV-0610" and slots["stage"] == "confirming"
    before = lookup.get_invoice("INV-0610", database_url=db)
    declined = tracker([user("no thanks", "deny")], verified("ACC-1006", **slots), track.sender_id)
    messages, events = run(ActionDeclineOffer(), declined)
    assert slots_of(events)["stage"] == "rating"
    assert lookup.get_invoice("INV-0610", database_url=db) == before


def test_refund_status_for_a_verified_customer(db):
    _, messages, _, slots = review("ACC-1001", [user("what's the status of my refund?", "refund_status")])
    assert messages[0]["text"] == "You have no open refunds or credits right now." and slots["stage"] is None


def test_balance_in_the_middle_of_a_dispute_keeps_the_case(db):
    track, _, _, slots = review("ACC-1001", MARIA_OPEN)
    side = tracker(MARIA_OPEN + [user("how much do I owe?", "ask_balance")], verified("ACC-1001", **slots),
                   track.sender_id)
    messages, events = run(ActionReviewCase(), side)
    assert events == [] and messages[-1]["text"].startswith("Back to your case")
    assert len(messages[-1]["buttons"]) == 2


def test_first_request_for_a_person_gets_one_offer_then_a_handoff(db):
    events = [user("I want to talk to a human", "request_human")]
    messages, out = run(ActionEscalate(), tracker(events, {"verified": False}, "conv-human"))
    assert messages[0]["text"] == "I can connect you now, or keep helping — which would you prefer?"
    assert messages[0]["escalation_offer"] is True and out == []
    events += [bot(messages[0]["text"], escalation_offer=True), user("let me speak to a real person", "request_human")]
    messages, out = run(ActionEscalate(), tracker(events, {"verified": False}, "conv-human"))
    assert any(e["event"] == "pause" for e in out)
    (handoff,) = list_handoffs(conversation_id="conv-human", database_url=db)
    assert handoff.reason_code == "customer_request" and handoff.context["reason_code"] == "requested"
    assert messages[0]["text"].startswith("Of course — I'm bringing in one of our billing specialists now.")


def test_no_to_the_offer_hands_off(db):
    events = [user("I want to talk to a human", "request_human"),
              bot("I can connect you now, or keep helping — which would you prefer?", escalation_offer=True),
              user("no", "deny")]
    _, out = run(ActionEscalate(), tracker(events, {}, "conv-no"))
    assert any(e["event"] == "pause" for e in out)


def test_legal_threat_hands_off_and_venting_is_acknowledged(db):
    _, out = run(ActionEscalate(), tracker([user("this is ridiculous, I'm calling my lawyer", "complain")], {},
                                           "conv-legal"))
    assert any(e["event"] == "pause" for e in out)
    (handoff,) = list_handoffs(conversation_id="conv-legal", database_url=db)
    assert handoff.context["reason_code"] == "legal"
    messages, out = run(ActionEscalate(), tracker([user("your billing is a joke", "complain")], {}, "conv-vent"))
    assert out == [] and messages[0]["acknowledgement"] is True and "sorry" in messages[0]["text"]


def test_csat_rating_and_comment_are_stored(db):
    rate = tracker([user("/inform", "inform", [{"entity": "csat", "value": 4}])], verified("ACC-1001", stage="rating"),
                   "conv-csat")
    messages, events = run(ActionCsat(), rate)
    assert slots_of(events) == {"csat": 4.0, "stage": "commenting"}
    comment = tracker([user("quick and easy", "thank")], verified("ACC-1001", stage="commenting", csat=4.0),
                      "conv-csat")
    messages, events = run(ActionCsat(), comment)
    assert slots_of(events) == {"stage": None}
    (row,) = conversation_log("conv-csat", database_url=db)
    assert row.text == "CSAT 4: quick and easy" and row.actor == "customer" and row.account_number == "ACC-1001"
    plain = tracker([user("5", "inform")], {"stage": "rating"}, "conv-plain")
    assert slots_of(run(ActionCsat(), plain)[1])["csat"] == 5.0


def test_go_back_shows_the_options_again_and_changes_nothing(db):
    chosen, _, slots = choose(db, "to my card")
    back = tracker(MARIA_OPEN + [user("actually go back", "request_refund")], verified("ACC-1001", **slots),
                   chosen.sender_id)
    messages, events = run(ActionSelectOffer(), back)
    assert "options again" in messages[0]["text"] and len(messages[0]["buttons"]) == 2
    assert slots_of(events) == {"pending_offer": None, "stage": "choosing"}


def test_a_yes_with_a_but_is_not_a_yes(db):
    chosen, _, slots = choose(db, "to my card")
    hesitant = tracker(MARIA_OPEN + [user("yes but wait, hold on", "affirm")], verified("ACC-1001", **slots),
                       chosen.sender_id)
    messages, events = run(ActionExecuteOffer(), hesitant)
    assert "haven't done anything" in messages[0]["text"]
    assert not [c for c in lookup.list_corrections("ACC-1001", database_url=db) if c.kind == "refund"]


def test_a_website_login_token_verifies_without_questions(db, monkeypatch):
    from actions.verification import ValidateVerifyForm
    from bot.channels import customer_token

    monkeypatch.setenv("WEB_JWT_SECRET", "unit-test-secret-0123456789")
    good = dict(user("you charged me twice!!", "charged_twice"),
                metadata={"customer_token": customer_token.issue("ACC-1001")}, input_channel="socketio")
    messages, events = run(ValidateVerifyForm(), tracker([good]))
    assert slots_of(events)["verified"] is True and slots_of(events)["account_number"] == "ACC-1001"
    assert "signed in" in messages[0]["text"]
    forged = dict(good, metadata={"customer_token": good["metadata"]["customer_token"][:-2] + "xx"})
    _, events = run(ValidateVerifyForm(), tracker([forged]))
    assert "verified" not in slots_of(events)


def test_a_phone_in_metadata_verifies_only_on_the_sms_channel(db):
    from actions.verification import ValidateVerifyForm

    sms = dict(user("what do I owe", "ask_balance"), metadata={"phone": "+14155550101"}, input_channel="twilio_sms")
    _, events = run(ValidateVerifyForm(), tracker([sms]))
    assert slots_of(events)["account_number"] == "ACC-1001"
    rest = dict(sms, input_channel="rest")
    _, events = run(ValidateVerifyForm(), tracker([rest]))
    assert "verified" not in slots_of(events)


def test_a_sender_locked_out_after_three_failures_is_refused_even_with_the_right_details(db):
    from actions.verification import ValidateVerifyForm
    from bot.billing.interactions import record_verification_failure

    sender = "locked-" + db[-12:-3]
    for _ in range(3):
        record_verification_failure(sender, sender, "rest", database_url=db)
    right = user("ACC-1001 94110", "inform", [{"entity": "account_number", "value": "ACC-1001"},
                                             {"entity": "postal_code", "value": "94110"}])
    messages, events = run(ValidateVerifyForm(), tracker([right], {"requested_slot": "verify_identifier"}, sender))
    assert "For your security" in messages[0]["text"]
    assert "verified" not in slots_of(events) and slots_of(events)["verify_factor"] == "unverified"
    other = "free-" + db[-12:-3]
    messages, events = run(ValidateVerifyForm(), tracker([right], {"requested_slot": "verify_identifier"}, other))
    assert slots_of(events)["verified"] is True


def test_each_mismatch_is_recorded_for_the_lockout(db):
    from actions.verification import ValidateVerifyForm
    from bot.billing.dates import utcnow
    from bot.billing.interactions import verification_failures
    from datetime import timedelta

    sender = "typo-" + db[-12:-3]
    wrong = user("ACC-1001 00001", "inform", [{"entity": "account_number", "value": "ACC-1001"},
                                             {"entity": "postal_code", "value": "10001"}])
    messages, _ = run(ValidateVerifyForm(), tracker([wrong], {"requested_slot": "verify_identifier"}, sender))
    assert "don't match" in messages[0]["text"]
    assert len(verification_failures(sender, utcnow() - timedelta(hours=1), database_url=db)) == 1
