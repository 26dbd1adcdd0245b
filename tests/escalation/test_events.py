"""state_from_events(): realistic rasa_sdk tracker event lists -> ConversationState -> evaluate()."""
from __future__ import annotations

from decimal import Decimal

from bot.billing.policy import DEFAULT_POLICY_FILE, load_policy
from bot.escalation import ConversationState, Decision, evaluate, load_config, parse_config, state_from_events
from tests.escalation.support import ANGRY, ANNOYED, CALM, POSITIVE, Events

CONFIG = load_config()
POLICY = load_policy(DEFAULT_POLICY_FILE)


def run(events, slots=None, config=CONFIG):
    state = state_from_events(events.events if isinstance(events, Events) else events, slots, config)
    return state, evaluate(state, config, policy=POLICY)


def greeted() -> Events:
    return Events().user("hi", "greet").action("action_read_sentiment").utter("utter_greet", "Hi, I'm ...").listen()


def test_turns_intents_confidence_and_sentiment_are_read():
    events = greeted().user("you charged me twice!!!", "charged_twice", 0.91, ANGRY)
    state, decision = run(events)
    assert [t.intent for t in state.turns] == ["greet", "charged_twice"]
    assert state.turns[1].confidence == 0.91 and state.turns[1].sentiment == ANGRY
    assert state.turns[1].text == "you charged me twice!!!" and state.turns[1].timestamp
    assert state.bot_turns[0].response == "utter_greet" and state.bot_turns[0].after_turn == 0
    assert decision == Decision(False)


def test_calm_customer_annoyed_once_then_satisfied():
    events = (greeted()
              .user("why is there a late fee, I paid on time", "dispute_charge", 0.9, ANNOYED)
              .utter("utter_can_help", "I'm sorry about the trouble — that's frustrating. I can help you with that.")
              .action("verify_form").listen()
              .user("ACC-1002 and 10001", "inform", 0.95, CALM).slot("verified", True).listen()
              .user("perfect, thank you!", "thank", 0.98, POSITIVE).utter("utter_welcome").listen())
    state, decision = run(events)
    assert state.first_acknowledgement_after == 1  # utter_can_help answered an upset turn
    assert decision == Decision(False)


def test_angry_after_acknowledgement_escalates_from_events():
    events = (greeted()
              .user("you charged me TWICE", "charged_twice", 0.9, ANGRY)
              .utter("utter_can_help", "I'm really sorry — ...").action("verify_form").listen()
              .user("why do I even need to verify, just fix it!!", "complain", 0.8, ANGRY)
              .utter("utter_empathize_verifying").listen()
              .user("this is the worst service ever", "complain", 0.85, ANGRY))
    state, decision = run(events)
    assert decision.escalate and decision.reason_code == "sentiment"


def test_utter_can_help_to_a_calm_customer_is_not_an_acknowledgement():
    events = (greeted()
              .user("question about my bill", "ask_invoice", 0.9, CALM).utter("utter_can_help", "I can help you with that.")
              .listen().user("WHAT?! $98??", "complain", 0.9, ANGRY).listen()
              .user("ridiculous", "complain", 0.9, ANGRY))
    state, decision = run(events)
    assert state.first_acknowledgement_after is None
    assert decision == Decision(False)


def test_acknowledgement_by_message_metadata():
    events = (greeted().user("this is outrageous", "complain", 0.9, ANGRY)
              .say("I hear you — let me fix this.", acknowledgement=True).listen()
              .user("fix it then!!", "complain", 0.9, ANGRY).listen()
              .user("NOW", "complain", 0.9, ANGRY))
    state, decision = run(events)
    assert state.bot_turns[-1].acknowledgement and decision.reason_code == "sentiment"


def test_acknowledgement_by_response_level_metadata():
    events = greeted().user("grr", "complain", 0.9, ANGRY).say("Sorry!", metadata={"acknowledgement": True})
    state, _ = run(events)
    assert state.first_acknowledgement_after == 1


def test_acknowledgement_responses_are_configurable():
    events = greeted().user("grr", "complain", 0.9, ANGRY).utter("utter_sorry_custom")
    assert run(events)[0].first_acknowledgement_after is None
    cfg = parse_config({"acknowledgements": {"responses": ["utter_sorry_custom"]}})
    assert run(events, config=cfg)[0].first_acknowledgement_after == 1


def test_requested_flow_from_events_offer_then_escalate():
    events = greeted().user("I want to talk to a real person", "request_human", 0.96, ANNOYED)
    state, decision = run(events)
    assert state.requested_human_count == 1 and not state.offer_to_keep_helping_made
    assert decision.offer_first and not decision.escalate

    events.say(decision.customer_message, escalation_offer=True).listen()
    events.user("no, a person please", "request_human", 0.95, ANNOYED)
    state, decision = run(events)
    assert state.requested_human_count == 2 and state.offer_to_keep_helping_made
    assert decision.escalate and decision.reason_code == "requested"


def test_declining_the_offer_from_events():
    events = (greeted().user("agent", "request_human", 0.99, CALM)
              .say("I can connect you now, or keep helping — which would you prefer?", escalation_offer=True)
              .listen().user("no", "deny", 0.97, CALM))
    assert run(events)[1].reason_code == "requested"


def test_keep_helping_after_the_offer_then_no_loop():
    events = (greeted().user("agent", "request_human", 0.99, CALM)
              .say("I can connect you now, or keep helping — which would you prefer?", escalation_offer=True)
              .listen().user("ok fine, it's about INV-0142", "inform", 0.9, CALM))
    assert run(events)[1] == Decision(False)
    events.listen().user("actually just get me a human", "request_human", 0.95, ANNOYED)
    decision = run(events)[1]
    assert decision.escalate and not decision.offer_first


def test_utter_human_soon_counts_as_the_offer():
    events = (greeted().user("human", "request_human", 0.99, CALM).utter("utter_human_soon").listen()
              .user("human!!", "request_human", 0.99, ANNOYED))
    state, decision = run(events)
    assert state.offer_to_keep_helping_made and decision.escalate


def test_two_fallbacks_from_events():
    events = (greeted().user("flibber", "nlu_fallback", 0.4, CALM).utter("utter_please_rephrase").listen()
              .user("the jabberwock thing", "nlu_fallback", 0.4, CALM))
    assert run(events)[1].reason_code == "misunderstanding"


def test_one_fallback_then_understood_from_events():
    events = (greeted().user("flibber", "nlu_fallback", 0.4, CALM).utter("utter_please_rephrase").listen()
              .user("I was billed twice for May", "charged_twice", 0.93, CALM))
    assert run(events)[1] == Decision(False)


def test_slots_from_slot_events_and_tracker_slots():
    events = (greeted().user("the equipment charge is wrong", "dispute_charge", 0.9, ANNOYED)
              .slot("verification_failures", 1.0).slot("disputed_amount", "2500.00"))
    state, decision = run(events)
    assert state.verification_failures == 1 and state.disputed_amount == Decimal("2500.00")
    assert decision.reason_code == "authority"
    # tracker.current_slot_values() wins over the events
    state, decision = run(events, {"disputed_amount": 49.0, "verification_failures": 3.0})
    assert state.disputed_amount == Decimal("49.0") and decision.reason_code == "verification"


def test_two_failed_verifications_from_events():
    events = greeted().user("ACC-1001 wrong@example.com", "inform", 0.9, CALM).slot("verification_failures", 2.0)
    assert run(events)[1] == Decision(False)


def test_offers_slots_and_plan_flag():
    events = greeted().user("no to both", "deny", 0.9, CALM)
    slots = {"offers_made": ["refund", "credit_note"], "offers_declined": ["credit_note"]}
    assert run(events, slots)[1] == Decision(False)
    slots["offers_declined"] = ["credit_note", "refund"]
    assert run(events, slots)[1].reason_code == "no_resolution"
    assert run(events, {"plan_outside_policy": True})[1].reason_code == "authority"


def test_handoff_reference_slot_stops_repeat_escalations():
    events = greeted().user("I'll sue", "complain", 0.9, ANGRY)
    assert run(events)[1].escalate
    state, decision = run(events, {"handoff_reference": "HND-ABCDEFGH"})
    assert state.already_escalated and not decision.escalate


def test_only_the_current_session_counts():
    events = (greeted().user("asdf", "nlu_fallback", 0.3, ANGRY).slot("verification_failures", 3.0)
              .session_start().user("hi again", "greet", 0.99, CALM).user("blah", "nlu_fallback", 0.3, CALM))
    state, decision = run(events)
    assert [t.text for t in state.turns] == ["hi again", "blah"]
    assert state.verification_failures == 0
    assert decision == Decision(False)


def test_restart_and_rewind():
    events = greeted().user("zzz", "nlu_fallback", 0.2, CALM).raw({"event": "restart", "timestamp": 1.0})
    events.user("qqq", "nlu_fallback", 0.2, CALM).raw({"event": "rewind", "timestamp": 2.0})
    events.user("I was charged twice", "charged_twice", 0.95, CALM)
    state, decision = run(events)
    assert [t.text for t in state.turns] == ["I was charged twice"] and decision == Decision(False)


def test_tolerates_sparse_events():
    events = [{"event": "user", "text": "lawyer"}, {"event": "bot"}, {"event": "slot", "name": "x"},
              {"event": "user", "parse_data": {"intent": None, "text": "agent"}}, "junk"]
    state = state_from_events(events, None, CONFIG)
    assert isinstance(state, ConversationState) and len(state.turns) == 2
    assert state.turns[0].intent is None and state.turns[1].text == "agent"
    assert evaluate(state, CONFIG, policy=POLICY).offer_first
