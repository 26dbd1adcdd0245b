"""RulePolicy's indexed rule matching keeps exactly the rules Rasa's full scan keeps."""
from __future__ import annotations

from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy

from bot.runtime import rule_index
from tests.runtime.test_states_cache import DOMAIN, TRACKERS


def rule_policy(agent) -> RulePolicy:  # type: ignore[no-untyped-def]
    policies = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(getattr(node, "_component", None), RulePolicy)]
    assert len(policies) == 1
    return policies[0]


def test_the_same_rules_as_the_full_scan_for_every_story_and_rule_prefix(trained_agent) -> None:  # type: ignore[no-untyped-def]
    policy = rule_policy(trained_agent)
    assert len(policy.lookup[RULES]) > 100
    checked = matched = 0
    for tracker in TRACKERS:
        for end in range(1, len(tracker.events) + 1):
            prefix = tracker.travel_back_in_time(tracker.events[end - 1].timestamp)
            for use_text in (True, False):
                states = policy._prediction_states(prefix, DOMAIN, use_text,
                                                   rule_only_data=policy._get_rule_only_data())
                for table in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
                    expected = rule_index._ORIGINAL(policy, policy.lookup[table], states)
                    assert rule_index.get_possible_keys(policy, policy.lookup[table], states) == expected
                    checked += 1
                    matched += bool(expected)
    assert checked > 1000 and matched > 200  # rules do match along the stories, not only empty sets


def test_installed_in_the_server() -> None:
    import bot.runtime  # noqa: F401

    assert RulePolicy._get_possible_keys is rule_index.get_possible_keys
