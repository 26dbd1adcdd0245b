"""Verification lockout helper: pure functions over failure timestamps with an injected clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.escalation import (
    compact_failures, is_locked_out, load_config, lockout_remaining, lockout_status, locked_until, parse_config,
    record_failure,
)

CONFIG = load_config()  # 3 failures within 60 minutes -> locked for 15 minutes
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_two_failures_do_not_lock():
    failures = record_failure(record_failure([], at(0), CONFIG), at(1), CONFIG)
    status = lockout_status(failures, at(2), CONFIG)
    assert not status.locked and status.recent_failures == 2 and status.attempts_left == 1


def test_third_failure_locks_for_fifteen_minutes():
    failures = []
    for minute in (0, 1, 2):
        failures = record_failure(failures, at(minute), CONFIG)
    assert is_locked_out(failures, at(2), CONFIG)
    assert locked_until(failures, at(3), CONFIG) == at(17)
    assert lockout_remaining(failures, at(10), CONFIG) == timedelta(minutes=7)
    assert is_locked_out(failures, at(16.9), CONFIG)
    assert not is_locked_out(failures, at(17), CONFIG)
    assert lockout_remaining(failures, at(17), CONFIG) == timedelta(0)
    assert lockout_status(failures, at(17), CONFIG).attempts_left == 3  # counting starts again


def test_attempts_while_locked_do_not_extend_the_lockout():
    failures = [at(0), at(1), at(2)]
    failures = record_failure(failures, at(5), CONFIG)
    assert locked_until(failures, at(6), CONFIG) == at(17)


def test_one_slip_after_a_lockout_does_not_relock():
    failures = [at(0), at(1), at(2), at(20)]
    assert not is_locked_out(failures, at(20), CONFIG)
    assert is_locked_out(failures + [at(21), at(22)], at(22), CONFIG)


def test_failures_outside_the_window_do_not_add_up():
    failures = [at(0), at(30), at(61)]  # at(0) has left the 60-minute window by minute 61
    assert not is_locked_out(failures, at(61), CONFIG)
    assert lockout_status(failures, at(61), CONFIG).recent_failures == 2


def test_compaction_keeps_behaviour():
    history = [at(m) for m in (0, 1, 2, 20, 100, 101)]
    for minute in (2, 10, 30, 101, 102, 170):
        if at(minute) < history[-1]:
            continue
        compact = compact_failures(history, at(minute), CONFIG)
        assert len(compact) <= 3
        for later in (minute, minute + 5, minute + 20, minute + 90):
            assert lockout_status(compact, at(later), CONFIG) == lockout_status(history, at(later), CONFIG)


def test_timestamps_may_be_unix_seconds_or_naive_utc():
    stamps = [T0.timestamp(), T0.timestamp() + 60, T0.replace(tzinfo=None) + timedelta(minutes=2)]
    assert is_locked_out(stamps, T0.timestamp() + 180, CONFIG)


def test_configurable():
    cfg = parse_config({"verification": {"max_failures": 2, "lockout_minutes": 5, "failure_window_minutes": 10}})
    assert locked_until([at(0), at(9)], at(9), cfg) == at(14)
    assert not is_locked_out([at(0), at(10)], at(10), cfg)
    assert not is_locked_out([at(0)], at(0), cfg.verification)  # a VerificationConfig works too
