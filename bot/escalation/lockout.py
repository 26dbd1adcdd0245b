"""Verification lockout: pure functions over the timestamps of one sender's failed attempts.

The caller persists the list per sender (e.g. a JSON list of ISO timestamps, or floats) and
passes the clock in; nothing here reads the time itself.

Rule (``verification`` in ``escalation.yml``): when ``max_failures`` (3) failures fall within
``failure_window_minutes`` (60), further attempts are refused for ``lockout_minutes`` (15) from the
last of them. Attempts recorded while locked are ignored, and the count starts again after a
lockout, so one slip after a lockout does not lock the sender again. ::

    failures = record_failure(failures, now)           # after a mismatch (returns a compact list)
    if is_locked_out(failures, now): refuse, say lockout_remaining(failures, now)
    failures = []                                      # after a successful verification
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from bot.escalation.config import EscalationConfig, VerificationConfig, load_config

__all__ = ["LockoutStatus", "lockout_status", "is_locked_out", "locked_until", "lockout_remaining", "record_failure",
           "compact_failures"]

Stamp = Union[datetime, float, int]


@dataclass(frozen=True)
class LockoutStatus:
    locked: bool
    until: Optional[datetime]  # when the current lockout ends (None if not locked)
    recent_failures: int  # failures counting towards the next lockout
    attempts_left: int  # failures allowed before a lockout (0 while locked)


def _dt(stamp: Stamp) -> datetime:
    """Aware UTC datetime; naive datetimes are UTC, numbers are Unix timestamps."""
    if isinstance(stamp, datetime):
        return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp
    return datetime.fromtimestamp(float(stamp), tz=timezone.utc)


def _cfg(config: Optional[Union[EscalationConfig, VerificationConfig]]) -> VerificationConfig:
    if isinstance(config, VerificationConfig):
        return config
    return (config or load_config()).verification


def _replay(failures: Iterable[Stamp], cfg: VerificationConfig) -> Tuple[Optional[datetime], List[datetime], List[datetime]]:
    """(end of the latest lockout, the failures that caused it, the failures counting since)."""
    window, lockout = timedelta(minutes=cfg.failure_window_minutes), timedelta(minutes=cfg.lockout_minutes)
    until: Optional[datetime] = None
    cause: List[datetime] = []
    run: List[datetime] = []
    for stamp in sorted(_dt(f) for f in failures):
        if until is not None and stamp < until:
            continue  # refused attempt while locked: not a verification
        run = [r for r in run if stamp - r < window] + [stamp]
        if len(run) >= cfg.max_failures:
            until, cause, run = stamp + lockout, run, []
    return until, cause, run


def lockout_status(failures: Sequence[Stamp], now: Stamp,
                   config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> LockoutStatus:
    """Whether the sender is locked out at ``now``, and how many attempts are left."""
    cfg = _cfg(config)
    now_dt = _dt(now)
    until, _, run = _replay(failures, cfg)
    if until is not None and now_dt < until:
        return LockoutStatus(True, until, 0, 0)
    window = timedelta(minutes=cfg.failure_window_minutes)
    recent = [r for r in run if now_dt - r < window]
    return LockoutStatus(False, None, len(recent), max(0, cfg.max_failures - len(recent)))


def is_locked_out(failures: Sequence[Stamp], now: Stamp,
                  config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> bool:
    return lockout_status(failures, now, config).locked


def locked_until(failures: Sequence[Stamp], now: Stamp,
                 config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> Optional[datetime]:
    return lockout_status(failures, now, config).until


def lockout_remaining(failures: Sequence[Stamp], now: Stamp,
                      config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> timedelta:
    """Time until attempts are accepted again (zero when not locked)."""
    status = lockout_status(failures, now, config)
    return status.until - _dt(now) if status.until else timedelta(0)


def compact_failures(failures: Sequence[Stamp], now: Stamp,
                     config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> List[datetime]:
    """The smallest list that behaves like ``failures`` from ``now`` on (for storage)."""
    cfg = _cfg(config)
    now_dt = _dt(now)
    until, cause, run = _replay(failures, cfg)
    if until is not None and now_dt < until:
        return list(cause)
    window = timedelta(minutes=cfg.failure_window_minutes)
    return [r for r in run if now_dt - r < window]


def record_failure(failures: Sequence[Stamp], now: Stamp,
                   config: Optional[Union[EscalationConfig, VerificationConfig]] = None) -> List[datetime]:
    """``failures`` plus a failure at ``now``, compacted. A failure while locked out is not counted."""
    return compact_failures([*failures, _dt(now)], now, config)
