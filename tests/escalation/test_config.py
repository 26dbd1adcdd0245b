"""escalation.yml: documented defaults == code defaults, overrides, validation."""
from __future__ import annotations

from datetime import time

import pytest
import yaml

from bot.escalation import EscalationConfig, load_config, parse_config
from bot.escalation.config import DEFAULT_CONFIG_FILE, REASON_CODES


def test_shipped_file_matches_code_defaults():
    assert load_config(DEFAULT_CONFIG_FILE) == EscalationConfig()
    assert parse_config(None) == EscalationConfig()


def test_shipped_file_sets_every_key():
    """The file documents every default: each dataclass field appears in it."""
    import dataclasses

    data = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))

    def check(cls, section, where):
        for f in dataclasses.fields(cls):
            assert f.name in section, f"{where}{f.name} missing from escalation.yml"
            value = getattr(cls(), f.name) if f.name != "reasons" else None
            if dataclasses.is_dataclass(value):
                check(type(value), section[f.name], f"{where}{f.name}.")

    check(EscalationConfig, data, "")
    assert set(data["reasons"]) == set(REASON_CODES)


def test_defaults_worth_knowing():
    cfg = load_config()
    assert cfg.priority == ("legal", "requested", "authority", "verification", "sentiment", "misunderstanding",
                            "no_resolution")
    assert cfg.requested.offer_to_keep_helping is True
    assert cfg.verification.max_failures == 3 and cfg.verification.lockout_minutes == 15
    assert cfg.misunderstanding.consecutive == 2 and cfg.sentiment.angry.consecutive == 2
    assert cfg.sentiment.negative.consecutive == 3
    assert cfg.agents.open == time(8) and cfg.agents.close == time(20) and cfg.agents.timezone == "America/New_York"
    assert cfg.reason("authority").handoff_reason == "above_authority"


def test_partial_override_keeps_other_defaults():
    cfg = parse_config({"misunderstanding": {"low_confidence_below": 0.6},
                        "reasons": {"legal": {"customer_message": "Passing you on."}},
                        "agents": {"open": "09:30", "days": ["mon", "sat"]}})
    assert cfg.misunderstanding.low_confidence_below == 0.6 and cfg.misunderstanding.consecutive == 2
    assert cfg.reason("legal").customer_message == "Passing you on." and cfg.reason("legal").handoff_reason == "other"
    assert cfg.agents.open == time(9, 30) and cfg.agents.close == time(20)


def test_env_override(tmp_path, monkeypatch):
    path = tmp_path / "esc.yml"
    path.write_text("verification:\n  max_failures: 5\n", encoding="utf-8")
    monkeypatch.setenv("ESCALATION_CONFIG_FILE", str(path))
    assert load_config().verification.max_failures == 5
    path.write_text("verification:\n  max_failures: 4\n", encoding="utf-8")
    import os
    os.utime(path, ns=(1, 1))  # a different mtime: the edit is picked up
    assert load_config().verification.max_failures == 4


@pytest.mark.parametrize("data, message", [
    ({"sentimnet": {}}, "unknown key"),
    ({"legal": {"terms": "lawyer"}}, "expected a list"),
    ({"requested": {"offer_to_keep_helping": "yes"}}, "true/false"),
    ({"priority": ["legal", "requested"]}, "exactly once"),
    ({"reasons": {"legal": {"handoff_reason": "lawyers"}}}, "handoff_reason"),
    ({"reasons": {"boredom": {}}}, "unknown reason code"),
    ({"agents": {"open": "25:00"}}, "time"),
    ({"agents": {"open": "20:00", "close": "08:00"}}, "before close"),
    ({"agents": {"days": ["monday"]}}, "unknown day"),
    ({"agents": {"holidays": ["12/25"]}}, "MM-DD"),
    ({"agents": {"holidays": ["02-30"]}}, "02-30"),
    ({"agents": {"timezone": "Mars/Olympus"}}, "time zone"),
    ({"misunderstanding": {"low_confidence_below": 2}}, "0..1"),
    ({"verification": {"max_failures": 0}}, "at least 1"),
])
def test_invalid_configuration_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        parse_config(data)
