"""evaluate(): every trigger firing, the cases that must not escalate, the requested flow, priority."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from bot.billing.policy import DEFAULT_POLICY_FILE, load_policy
from bot.escalation import BotTurn, ConversationState, Decision, evaluate, load_config, parse_config, triggers
from tests.escalation.support import ANGRY, ANNOYED, CALM, POSITIVE, ack, offer, turn

CONFIG = load_config()
POLICY = load_policy(DEFAULT_POLICY_FILE)  # bot limit $500.00


def decide(state: ConversationState, config=CONFIG) -> Decision:
    return evaluate(state, config, policy=POLICY)


def state(*turns, **kwargs) -> ConversationState:
    return ConversationState(turns=turns, **kwargs)


# ------------------------------------------------------------------ nothing to do

def test_empty_conversation_does_not_escalate():
    decision = decide(ConversationState())
    assert decision == Decision(False)
    assert not decision


def test_calm_customer_annoyed_once_then_satisfied():
    s = state(turn("hi, question about my bill", "greet"),
              turn("why was I charged twice?? this is annoying", "charged_twice", sentiment=ANNOYED),
              turn("ACC-1001", "inform"),
              turn("oh great, thanks for sorting that", "thank", sentiment=POSITIVE),
              bot_turns=[ack(1)])
    assert decide(s) == Decision(False)


# ------------------------------------------------------------------ legal

@pytest.mark.parametrize("text", [
    "I'm going to sue you", "I'm suing Northwind", "my lawyers will hear about this", "I'll take you to court",
    "I'm filing a lawsuit", "reporting you to the BBB", "complaint to the CFPB today",
    "I'll just do a chargeback", "I'll charge back the payment with my bank", "writing to the attorney general",
    "I want to file a fraud report",
])
def test_legal_threat_escalates(text):
    decision = decide(state(turn("hi", "greet"), turn(text, "complain", sentiment=ANGRY)))
    assert decision.escalate and decision.reason_code == "legal"
    assert decision.handoff_reason == "other"
    assert "Legal" in decision.explanation and decision.customer_message


@pytest.mark.parametrize("text", ["thanks for the courtesy call", "can you pursue the refund for me?",
                                  "my account number is ACC-1001", "I was charged twice"])
def test_ordinary_words_are_not_legal(text):
    assert decide(state(turn(text))).reason_code is None


def test_legal_only_looks_at_the_latest_turn():
    s = state(turn("I'll sue you"), turn("ok fine, go on", "affirm"))
    assert decide(s) == Decision(False)


# ------------------------------------------------------------------ requested (one offer, never a loop)

def test_first_request_gets_one_offer_not_an_escalation():
    decision = decide(state(turn("I was charged twice", "charged_twice"), turn("can I talk to a real person", "request_human")))
    assert not decision.escalate and decision.offer_first
    assert decision.reason_code == "requested"
    assert decision.customer_message == "I can connect you now, or keep helping — which would you prefer?"


def test_second_request_after_the_offer_escalates():
    s = state(turn("agent", "request_human"), turn("I said AGENT", "request_human"), bot_turns=[offer(0)])
    decision = decide(s)
    assert decision.escalate and decision.reason_code == "requested" and not decision.offer_first
    assert decision.handoff_reason == "customer_request"


def test_declining_the_offer_escalates():
    s = state(turn("get me a human", "request_human"), turn("no", "deny"), bot_turns=[offer(0)])
    assert decide(s).reason_code == "requested" and decide(s).escalate


def test_accepting_help_after_the_offer_carries_on():
    s = state(turn("get me a human", "request_human"), turn("ok, it's about INV-0142", "inform"), bot_turns=[offer(0)])
    assert decide(s) == Decision(False)


def test_requested_flow_never_loops():
    """Walk the conversation: offer once, then every later request escalates."""
    turns, bots, outcomes = [], [], []
    for text, intent in [("human please", "request_human"), ("just connect me to a person", "request_human"),
                         ("PERSON", "request_human")]:
        turns.append(turn(text, intent))
        decision = decide(state(*turns, bot_turns=bots))
        outcomes.append((decision.escalate, decision.offer_first))
        if decision.offer_first:
            bots.append(offer(len(turns) - 1))
    assert outcomes == [(False, True), (True, False), (True, False)]


def test_second_request_escalates_even_if_the_offer_was_never_shown():
    s = state(turn("agent", "request_human"), turn("hello?", "greet"), turn("agent!!", "request_human"))
    assert decide(s).escalate


def test_request_by_phrase_without_the_intent():
    s = state(turn("let me speak to a human being", "complain"))
    assert decide(s).offer_first


def test_human_error_is_not_a_request():
    assert decide(state(turn("this looks like a human error on your side", "dispute_charge"))) == Decision(False)


def test_offer_disabled_escalates_at_once():
    cfg = parse_config({"requested": {"offer_to_keep_helping": False}})
    decision = decide(state(turn("agent", "request_human")), cfg)
    assert decision.escalate and decision.reason_code == "requested"


def test_offer_made_in_answer_to_the_latest_turn_does_not_count_yet():
    # e.g. a rule already uttered utter_human_soon for this very request
    s = state(turn("agent", "request_human"), bot_turns=[offer(0)])
    assert decide(s).offer_first


# ------------------------------------------------------------------ authority

def test_disputed_amount_above_bot_limit():
    decision = decide(state(turn("the $2,500 equipment charge is wrong", "dispute_charge"),
                            disputed_amount=Decimal("2500.00")))
    assert decision.escalate and decision.reason_code == "authority"
    assert decision.handoff_reason == "above_authority"
    assert "$2,500.00" in decision.explanation and "$500.00" in decision.explanation


def test_amount_at_the_limit_is_within_authority():
    assert decide(state(turn(), disputed_amount=Decimal("500.00"), requested_amount=Decimal("500.00"))) == Decision(False)


def test_requested_correction_plus_already_corrected_above_limit():
    s = state(turn(), requested_amount=Decimal("300.00"), already_corrected=Decimal("250.00"))
    assert decide(s).reason_code == "authority"


def test_plan_outside_policy_is_a_policy_exception():
    decision = decide(state(turn("can I pay over 12 months", "request_payment_plan"), plan_outside_policy=True))
    assert decision.reason_code == "authority" and decision.handoff_reason == "policy_exception"


def test_authority_uses_the_given_policy(tmp_path):
    policy_file = tmp_path / "policy.yml"
    policy_file.write_text(DEFAULT_POLICY_FILE.read_text().replace('max_correction: "500.00"',
                                                                   'max_correction: "50.00"'))
    cfg = parse_config({"authority": {"policy_file": str(policy_file)}})
    s = state(turn(), disputed_amount=Decimal("98.00"))
    assert evaluate(s, cfg).reason_code == "authority"
    assert decide(s) == Decision(False)  # $98 is within the shipped $500 limit


# ------------------------------------------------------------------ verification

def test_three_failed_verifications_escalate():
    decision = decide(state(turn("ACC-1001 nope@example.com"), verification_failures=3))
    assert decision.reason_code == "verification" and decision.handoff_reason == "verification_failed"
    assert "15 minutes" in decision.explanation


def test_two_failed_verifications_do_not():
    assert decide(state(turn("ACC-1001 nope@example.com"), verification_failures=2)) == Decision(False)


# ------------------------------------------------------------------ sentiment

def test_angry_twice_after_acknowledgement_escalates():
    s = state(turn("you charged me twice!!!", "charged_twice", sentiment=ANGRY),
              turn("this is a joke, fix it NOW", "complain", sentiment=ANGRY),
              turn("I'm done with this garbage", "complain", sentiment=ANGRY),
              bot_turns=[ack(0)])
    decision = decide(s)
    assert decision.escalate and decision.reason_code == "sentiment"
    assert "2 consecutive angry" in decision.explanation


def test_anger_before_the_acknowledgement_does_not_count():
    s = state(turn("you charged me twice!!!", sentiment=ANGRY), turn("FIX IT", sentiment=ANGRY),
              turn("still waiting, this is ridiculous", sentiment=ANGRY), bot_turns=[ack(1)])
    assert decide(s) == Decision(False)  # only turn 2 is after the acknowledgement
    s2 = dataclasses.replace(s, turns=s.turns + (turn("unbelievable", sentiment=ANGRY),))
    assert decide(s2).reason_code == "sentiment"


def test_anger_without_any_acknowledgement_does_not_count():
    s = state(turn("!!!", sentiment=ANGRY), turn("!!!!", sentiment=ANGRY))
    assert decide(s) == Decision(False)


def test_negative_three_turns_in_a_row_after_acknowledgement_escalates():
    s = state(turn("this bill is wrong", sentiment=ANNOYED), turn("still wrong", sentiment=ANNOYED),
              turn("I'm not happy at all", sentiment=ANNOYED), bot_turns=[ack(-1)])
    decision = decide(s)
    assert decision.reason_code == "sentiment" and "3 consecutive negative" in decision.explanation
    assert decide(dataclasses.replace(s, bot_turns=())) == Decision(False)  # never acknowledged: not yet
    cfg = parse_config({"sentiment": {"negative": {"after_acknowledgement": False}}})
    assert decide(dataclasses.replace(s, bot_turns=()), cfg).reason_code == "sentiment"


def test_negative_streak_broken_by_a_calm_turn():
    s = state(turn("wrong", sentiment=ANNOYED), turn("wrong", sentiment=ANNOYED), turn("ok", sentiment=CALM),
              turn("hmm wrong", sentiment=ANNOYED), turn("annoying", sentiment=ANNOYED), bot_turns=[ack(-1)])
    assert decide(s) == Decision(False)


def test_turn_without_sentiment_breaks_a_streak():
    s = state(turn("x", sentiment=ANGRY), turn("/affirm", "affirm", 1.0, sentiment=None), turn("y", sentiment=ANGRY),
              bot_turns=[ack(-1)])
    assert decide(s) == Decision(False)


# ------------------------------------------------------------------ misunderstanding

def test_two_fallbacks_in_a_row_escalate():
    s = state(turn("asdf qwer", "nlu_fallback", 0.31), turn("blorp the thing", "nlu_fallback", 0.2))
    decision = decide(s)
    assert decision.reason_code == "misunderstanding" and decision.escalate


def test_low_confidence_counts_like_a_fallback():
    s = state(turn("hmm", "nlu_fallback", 0.3), turn("the thing with the stuff", "inform", 0.35))
    assert decide(s).reason_code == "misunderstanding"


def test_one_fallback_then_understood():
    s = state(turn("asdf", "nlu_fallback", 0.3), turn("I was charged twice", "charged_twice", 0.97))
    assert decide(s) == Decision(False)


def test_unknown_confidence_is_not_low():
    s = state(turn("a", "inform", None), turn("b", "inform", None))
    assert decide(s) == Decision(False)


# ------------------------------------------------------------------ no resolution

def test_every_offer_declined_escalates():
    s = state(turn("no, neither", "deny"), offers_made=["refund", "credit"], offers_declined=["credit", "refund"])
    decision = decide(s)
    assert decision.reason_code == "no_resolution" and "refund, credit" in decision.explanation


def test_one_of_two_offers_declined_does_not():
    s = state(turn("not the credit", "deny"), offers_made=["refund", "credit"], offers_declined=["credit"])
    assert decide(s) == Decision(False)


def test_no_offers_is_not_no_resolution():
    assert decide(state(turn("no", "deny"))) == Decision(False)


# ------------------------------------------------------------------ priority, configuration, repeat

def test_priority_legal_beats_requested_beats_authority():
    s = state(turn("get me a human or I'm calling my lawyer", "request_human", sentiment=ANGRY),
              disputed_amount=Decimal("2500.00"), verification_failures=3)
    decision = decide(s)
    assert decision.reason_code == "legal"
    assert decision.fired == ("legal", "requested", "authority", "verification")
    assert "Also:" in decision.explanation


def test_escalating_trigger_wins_over_the_offer():
    # first request would only get an offer, but the amount is above authority: hand off
    s = state(turn("agent please", "request_human"), disputed_amount=Decimal("2500.00"))
    decision = decide(s)
    assert decision.escalate and decision.reason_code == "authority" and not decision.offer_first
    assert decision.fired == ("requested", "authority")


def test_priority_is_configurable():
    s = state(turn("asdf", "nlu_fallback", 0.1), turn("qwer", "nlu_fallback", 0.1), verification_failures=3)
    assert decide(s).reason_code == "verification"
    order = ["misunderstanding", "legal", "requested", "authority", "verification", "sentiment", "no_resolution"]
    assert decide(s, parse_config({"priority": order})).reason_code == "misunderstanding"


def test_trigger_can_be_disabled_and_thresholds_changed():
    s = state(turn("a", "nlu_fallback", 0.1), turn("b", "nlu_fallback", 0.1))
    assert decide(s, parse_config({"misunderstanding": {"enabled": False}})) == Decision(False)
    assert decide(s, parse_config({"misunderstanding": {"consecutive": 3}})) == Decision(False)
    assert decide(state(turn(), verification_failures=2), parse_config({"verification": {"max_failures": 2}})).escalate


def test_already_escalated_does_not_escalate_again():
    s = state(turn("I'll sue"), verification_failures=3, already_escalated=True)
    assert not decide(s).escalate


def test_triggers_lists_all_in_priority_order():
    s = state(turn("a", "nlu_fallback", 0.1), turn("b", "nlu_fallback", 0.1), offers_made=["x"], offers_declined=["x"])
    assert [t.reason_code for t in triggers(s, CONFIG, policy=POLICY)] == ["misunderstanding", "no_resolution"]


def test_state_accepts_lists_and_strings_for_amounts():
    s = ConversationState(turns=[turn()], bot_turns=[BotTurn(-1)], disputed_amount="$2,500.00", offers_made=["a"])
    assert s.disputed_amount == Decimal("2500.00") and isinstance(s.turns, tuple) and s.offers_made == ("a",)
