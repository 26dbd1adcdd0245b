"""Configuration of the escalation rule: ``escalation.yml`` parsed into frozen dataclasses.

The dataclass defaults below are the documented defaults of ``escalation.yml`` (a test keeps the
two identical). Every key in the file is optional; unknown keys raise ``ValueError`` so a typo
does not silently fall back to a default.
"""
from __future__ import annotations

import dataclasses
import os
import re
import typing
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import yaml

DEFAULT_CONFIG_FILE = Path(__file__).resolve().parent / "escalation.yml"
CONFIG_ENV = "ESCALATION_CONFIG_FILE"

REQUESTED = "requested"
LEGAL = "legal"
AUTHORITY = "authority"
VERIFICATION = "verification"
SENTIMENT = "sentiment"
MISUNDERSTANDING = "misunderstanding"
NO_RESOLUTION = "no_resolution"
REASON_CODES: Tuple[str, ...] = (
    LEGAL, REQUESTED, AUTHORITY, VERIFICATION, SENTIMENT, MISUNDERSTANDING, NO_RESOLUTION,
)
WEEKDAYS: Tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HANDOFF_REASONS = ("above_authority", "not_confirmed_by_ledger", "verification_failed", "customer_request",
                    "policy_exception", "other")  # bot.billing.kinds.HandoffReason values


@dataclass(frozen=True)
class RequestedConfig:
    enabled: bool = True
    intents: Tuple[str, ...] = ("request_human",)
    phrases: Tuple[str, ...] = (
        "human", "human being", "real person", "live person", "actual person", "talk to a person",
        "speak to a person", "speak with a person", "talk to someone", "speak to someone", "agent",
        "representative", "operator", "supervisor",
    )
    ignore_phrases: Tuple[str, ...] = ("human error", "agent said", "agent told")
    offer_to_keep_helping: bool = True
    offer_message: str = "I can connect you now, or keep helping — which would you prefer?"
    offer_declined_intents: Tuple[str, ...] = ("deny", "request_human")
    offer_responses: Tuple[str, ...] = ("utter_human_soon",)


@dataclass(frozen=True)
class LegalConfig:
    enabled: bool = True
    terms: Tuple[str, ...] = (
        "lawyer", "attorney", "attorney general", "sue", "law suit", "legal action", "court", "small claims",
        "class action", "BBB", "better business bureau", "CFPB", "consumer financial protection bureau", "FCC",
        "charge back", "dispute it with my bank", "fraud report", "report fraud", "report you for fraud",
    )
    ignore_phrases: Tuple[str, ...] = ()


@dataclass(frozen=True)
class AngryConfig:
    enabled: bool = True
    consecutive: int = 2
    tones: Tuple[str, ...] = ("angry",)
    after_acknowledgement: bool = True


@dataclass(frozen=True)
class NegativeConfig:
    enabled: bool = True
    consecutive: int = 3
    labels: Tuple[str, ...] = ("negative",)
    after_acknowledgement: bool = True


@dataclass(frozen=True)
class SentimentConfig:
    angry: AngryConfig = field(default_factory=AngryConfig)
    negative: NegativeConfig = field(default_factory=NegativeConfig)


@dataclass(frozen=True)
class AuthorityConfig:
    enabled: bool = True
    actor: str = "bot"
    policy_file: Optional[str] = None


@dataclass(frozen=True)
class VerificationConfig:
    enabled: bool = True
    max_failures: int = 3
    lockout_minutes: int = 15
    failure_window_minutes: int = 60


@dataclass(frozen=True)
class MisunderstandingConfig:
    enabled: bool = True
    consecutive: int = 2
    fallback_intents: Tuple[str, ...] = ("nlu_fallback",)
    low_confidence_below: float = 0.4


@dataclass(frozen=True)
class NoResolutionConfig:
    enabled: bool = True


@dataclass(frozen=True)
class AcknowledgementConfig:
    metadata_key: str = "acknowledgement"
    responses: Tuple[str, ...] = ("utter_empathize", "utter_empathize_verifying")
    responses_when_upset: Tuple[str, ...] = ("utter_can_help",)
    upset_tones: Tuple[str, ...] = ("frustrated", "angry")


@dataclass(frozen=True)
class SlotNames:
    verification_failures: str = "verification_failures"
    disputed_amount: str = "disputed_amount"
    requested_amount: str = "requested_amount"
    already_corrected: str = "already_corrected"
    plan_outside_policy: str = "plan_outside_policy"
    offers_made: str = "offers_made"
    offers_declined: str = "offers_declined"
    handoff_reference: str = "handoff_reference"


@dataclass(frozen=True)
class ReasonConfig:
    handoff_reason: str = "other"
    customer_message: str = ""


def _default_reasons() -> Dict[str, ReasonConfig]:
    return {
        REQUESTED: ReasonConfig("customer_request", "Of course — I'm bringing in one of our billing specialists now."),
        LEGAL: ReasonConfig("other", "I understand this is serious. I'm passing your case to a billing specialist "
                                     "who can take it from here."),
        AUTHORITY: ReasonConfig("above_authority", "This needs one of our billing specialists — it's more than I'm "
                                                   "able to change myself. I'm passing your case over with "
                                                   "everything you've told me."),
        VERIFICATION: ReasonConfig("verification_failed", "I'm sorry — I couldn't confirm the account details, so "
                                                          "for your security I can't go on here. A specialist can "
                                                          "verify you another way."),
        SENTIMENT: ReasonConfig("other", "I'm sorry I haven't been able to put this right for you. I'm bringing in "
                                         "one of our billing specialists now."),
        MISUNDERSTANDING: ReasonConfig("other", "Sorry, I'm having trouble understanding. Let me bring in one of our "
                                                "billing specialists."),
        NO_RESOLUTION: ReasonConfig("other", "I'm sorry none of those options work for you. A billing specialist "
                                             "can look at what else is possible."),
    }


@dataclass(frozen=True)
class TimelineConfig:
    snippet_chars: int = 80
    redact: bool = True


@dataclass(frozen=True)
class AgentMessages:
    live: str = "A specialist will be with you in about {wait}."
    offline: str = ("Our specialists are offline right now ({hours}). I've opened ticket {ticket} and someone "
                    "will call you back {callback}.")
    busy: str = ("Our specialists are all busy right now ({hours}). I've opened ticket {ticket} and someone "
                 "will call you back {callback}.")


@dataclass(frozen=True)
class AgentHoursConfig:
    timezone: str = "America/New_York"
    timezone_label: str = "ET"
    days: Tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    open: time = time(8, 0)
    close: time = time(20, 0)
    holidays: Tuple[str, ...] = ("01-01", "07-04", "12-25", "2026-11-26", "2027-05-31", "2027-09-06",
                                 "2027-11-25")
    average_handle_minutes: float = 6
    round_up_to_minutes: int = 5
    max_live_wait_minutes: int = 60
    ticket_prefix: str = "HO"
    messages: AgentMessages = field(default_factory=AgentMessages)


@dataclass(frozen=True)
class EscalationConfig:
    priority: Tuple[str, ...] = REASON_CODES
    requested: RequestedConfig = field(default_factory=RequestedConfig)
    legal: LegalConfig = field(default_factory=LegalConfig)
    sentiment: SentimentConfig = field(default_factory=SentimentConfig)
    authority: AuthorityConfig = field(default_factory=AuthorityConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    misunderstanding: MisunderstandingConfig = field(default_factory=MisunderstandingConfig)
    no_resolution: NoResolutionConfig = field(default_factory=NoResolutionConfig)
    acknowledgements: AcknowledgementConfig = field(default_factory=AcknowledgementConfig)
    slots: SlotNames = field(default_factory=SlotNames)
    reasons: Mapping[str, ReasonConfig] = field(default_factory=_default_reasons)
    timeline: TimelineConfig = field(default_factory=TimelineConfig)
    agents: AgentHoursConfig = field(default_factory=AgentHoursConfig)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reasons", MappingProxyType(dict(self.reasons)))
        _validate(self)

    def reason(self, code: str) -> ReasonConfig:
        return self.reasons.get(code) or ReasonConfig()


# ----------------------------------------------------------------------------- parsing

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HOLIDAY_RE = re.compile(r"^(?:\d{4}-)?\d{2}-\d{2}$")


def _parse_time(raw: Any, where: str) -> time:
    if isinstance(raw, time):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):  # YAML 1.1 reads unquoted 08:00 as 480 (minutes)
        if 0 <= raw < 24 * 60:
            return time(raw // 60, raw % 60)
    match = _TIME_RE.match(str(raw).strip())
    if not match:
        raise ValueError(f"escalation config {where}: expected a time like \"08:00\", got {raw!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _value(tp: Any, raw: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, raw, where)
    if tp is time:
        return _parse_time(raw, where)
    if origin is Union:  # Optional[X]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if raw is None else _value(args[0], raw, where)
    if origin in (tuple, Tuple):
        if raw is None:
            return ()
        if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
            raise ValueError(f"escalation config {where}: expected a list, got {raw!r}")
        item = typing.get_args(tp)[0]
        return tuple(_value(item, x, f"{where}[{i}]") for i, x in enumerate(raw))
    if origin in (dict, Dict, Mapping) or tp is Mapping:
        raise TypeError("mappings are parsed by their owner")  # pragma: no cover
    if tp is bool:
        if not isinstance(raw, bool):
            raise ValueError(f"escalation config {where}: expected true/false, got {raw!r}")
        return raw
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"escalation config {where}: expected a whole number, got {raw!r}")
        return raw
    if tp is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"escalation config {where}: expected a number, got {raw!r}")
        return float(raw)
    if tp is str:
        if raw is None or isinstance(raw, (dict, list)):
            raise ValueError(f"escalation config {where}: expected text, got {raw!r}")
        return str(raw)
    raise TypeError(f"unsupported config type {tp!r}")  # pragma: no cover


def _build(cls: Any, raw: Any, where: str) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"escalation config {where or 'file'}: expected a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, raw)) - names)
    if unknown:
        raise ValueError(f"escalation config {where or 'file'}: unknown key(s) {', '.join(unknown)}")
    kwargs: Dict[str, Any] = {}
    for name, raw_value in raw.items():
        key = f"{where}.{name}" if where else str(name)
        if cls is EscalationConfig and name == "reasons":
            kwargs[name] = _reasons(raw_value, key)
        else:
            kwargs[name] = _value(hints[name], raw_value, key)
    return cls(**kwargs)


def _reasons(raw: Any, where: str) -> Dict[str, ReasonConfig]:
    reasons = _default_reasons()
    if raw is None:
        return reasons
    if not isinstance(raw, Mapping):
        raise ValueError(f"escalation config {where}: expected a mapping")
    for code, entry in raw.items():
        if code not in REASON_CODES:
            raise ValueError(f"escalation config {where}: unknown reason code {code!r}")
        base = dataclasses.asdict(reasons[code])
        parsed = _build(ReasonConfig, entry, f"{where}.{code}")
        given = set((entry or {}).keys())
        reasons[code] = ReasonConfig(**{k: getattr(parsed, k) if k in given else base[k] for k in base})
    return reasons


def _validate(config: EscalationConfig) -> None:
    if sorted(config.priority) != sorted(REASON_CODES):
        raise ValueError(f"escalation config priority: must list each of {', '.join(REASON_CODES)} exactly once")
    for code, reason in config.reasons.items():
        if code not in REASON_CODES:
            raise ValueError(f"escalation config reasons: unknown reason code {code!r}")
        if reason.handoff_reason not in _HANDOFF_REASONS:
            raise ValueError(f"escalation config reasons.{code}.handoff_reason: {reason.handoff_reason!r} is not "
                             f"one of {', '.join(_HANDOFF_REASONS)}")
    for name, value in (("sentiment.angry.consecutive", config.sentiment.angry.consecutive),
                        ("sentiment.negative.consecutive", config.sentiment.negative.consecutive),
                        ("misunderstanding.consecutive", config.misunderstanding.consecutive),
                        ("verification.max_failures", config.verification.max_failures)):
        if value < 1:
            raise ValueError(f"escalation config {name}: must be at least 1")
    if config.verification.lockout_minutes < 0 or config.verification.failure_window_minutes < 1:
        raise ValueError("escalation config verification: lockout_minutes >= 0 and failure_window_minutes >= 1")
    if not 0 <= config.misunderstanding.low_confidence_below <= 1:
        raise ValueError("escalation config misunderstanding.low_confidence_below: must be within 0..1")
    if config.authority.actor not in ("bot", "agent"):
        raise ValueError("escalation config authority.actor: must be bot or agent")
    agents = config.agents
    bad_days = [d for d in agents.days if d not in WEEKDAYS]
    if bad_days:
        raise ValueError(f"escalation config agents.days: unknown day(s) {bad_days}; use {', '.join(WEEKDAYS)}")
    if agents.open >= agents.close:
        raise ValueError("escalation config agents: open must be before close")
    for raw in agents.holidays:
        if not _HOLIDAY_RE.match(raw):
            raise ValueError(f"escalation config agents.holidays: {raw!r} is not MM-DD or YYYY-MM-DD")
        try:
            date.fromisoformat(raw if len(raw) == 10 else f"2000-{raw}")  # 2000 is a leap year
        except ValueError as exc:
            raise ValueError(f"escalation config agents.holidays: {raw!r}: {exc}") from exc
    if agents.average_handle_minutes <= 0 or agents.round_up_to_minutes < 1 or agents.max_live_wait_minutes < 1:
        raise ValueError("escalation config agents: average_handle_minutes > 0, round_up_to_minutes >= 1 and "
                         "max_live_wait_minutes >= 1")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(agents.timezone)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise ValueError(f"escalation config agents.timezone: unknown time zone {agents.timezone!r}") from exc


def parse_config(data: Optional[Mapping[str, Any]]) -> EscalationConfig:
    """An :class:`EscalationConfig` from already-loaded YAML data (``None`` = all defaults)."""
    return _build(EscalationConfig, data, "")


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> EscalationConfig:
    with open(path, encoding="utf-8") as handle:
        return parse_config(yaml.safe_load(handle))


def load_config(path: Union[str, Path, None] = None) -> EscalationConfig:
    """The configuration from ``path``, ``ESCALATION_CONFIG_FILE`` or ``bot/escalation/escalation.yml``.

    Cached per file and modification time, so an edited file is picked up by the next call.
    """
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE).resolve()
    return _load(str(chosen), chosen.stat().st_mtime_ns)
