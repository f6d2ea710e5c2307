"""The DAXA ladder policy: per-severity durations and thresholds, as data.

The policy is written in TOML with ISO-8601 durations. Calendar units (years, months)
are refused because their length depends on the date they are added to.
"""

import re
import tomllib
from datetime import timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from domain.alerts import ExchangeId, Severity
from domain.exchanges import DAXA_MEMBERS, ResolvedSender, SenderIdentity, resolve_sender
from domain.network import MIN_PREFIX, WIDEST_PREFIX

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_iso_duration(text: str) -> timedelta:
    """`P3D`, `PT6H`, `P1DT12H`, `P2W` -> timedelta; raises ValueError otherwise."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an ISO-8601 duration like P3D or PT6H (no Y or M)")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


def format_iso_duration(value: timedelta) -> str:
    """timedelta -> the shortest ISO-8601 form, e.g. `P1D`, `PT6H`, `P1DT12H`."""
    days, rest = divmod(value.total_seconds(), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    date = f"{int(days)}D" if days else ""
    time = "".join(
        f"{amount:g}{unit}"
        for amount, unit in ((hours, "H"), (minutes, "M"), (seconds, "S"))
        if amount
    )
    if not date and not time:
        return "PT0S"
    return f"P{date}" + (f"T{time}" if time else "")


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_iso_duration(value)
    if isinstance(value, timedelta):
        return value
    raise ValueError("expected an ISO-8601 duration string such as 'P3D'")


IsoDuration = Annotated[timedelta, BeforeValidator(_duration)]


class SeverityPolicy(BaseModel):
    """How the ladder runs for cases of one severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monitoring_window: IsoDuration  # quiet time after the last alert that clears a case
    escalate_after_alerts: int = Field(ge=1, le=1000)  # 1 means: warn at once
    kyc_deadline: IsoDuration
    kyc_deadline_max: IsoDuration  # latest deadline an officer may set, from the request
    kyc_reminders_before: tuple[IsoDuration, ...] = ()
    probation: IsoDuration
    restrict_on_warning: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name in ("monitoring_window", "kyc_deadline", "kyc_deadline_max", "probation"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be longer than zero")
        if self.kyc_deadline_max < self.kyc_deadline:
            raise ValueError("kyc_deadline_max must not be shorter than kyc_deadline")
        for offset in self.kyc_reminders_before:
            if not timedelta(0) < offset < self.kyc_deadline:
                raise ValueError(
                    "each of kyc_reminders_before must lie between zero and kyc_deadline"
                )
        if len(set(self.kyc_reminders_before)) != len(self.kyc_reminders_before):
            raise ValueError("kyc_reminders_before has the same offset twice")
        return self


class WhitelistPolicy(BaseModel):
    """How wide a block a key's whitelist may name (the widest prefix per IP version)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    widest_ipv4_prefix: int = Field(default=WIDEST_PREFIX[4], ge=MIN_PREFIX[4], le=32)
    widest_ipv6_prefix: int = Field(default=WIDEST_PREFIX[6], ge=MIN_PREFIX[6], le=128)

    def widest(self) -> dict[int, int]:
        """The limits keyed by IP version, as `domain.network.normalise_whitelist` takes them."""
        return {4: self.widest_ipv4_prefix, 6: self.widest_ipv6_prefix}


class ExchangePolicy(BaseModel):
    """One exchange's entry: severity tables that override the file's, and its sender.

    An override may name only some fields of a table; `parse_policy` fills in the rest
    from the file's own table before this is validated, so every table here is whole.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: dict[Severity, SeverityPolicy] = Field(default_factory=dict)
    sender: SenderIdentity | None = None


class FourEyesPolicy(BaseModel):
    """Which cases need a second officer to dismiss or expire now, and how long one may take.

    Absent from a policy file, high and critical cases need one: leaving the table out
    never lets one officer alone make an irreversible decision on them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: IsoDuration = timedelta(hours=24)  # a request not decided by then lapses
    severities: tuple[Severity, ...] = (Severity.HIGH, Severity.CRITICAL)

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        if self.window <= timedelta(0):
            raise ValueError("window must be longer than zero")
        if len(set(self.severities)) != len(self.severities):
            raise ValueError("severities names a severity twice")
        return self

    def applies_to(self, severity: Severity) -> bool:
        """Whether a case of this severity needs a second officer."""
        return severity in self.severities


class LadderPolicy(BaseModel):
    """The whole ladder: one `SeverityPolicy` per severity, under a version name.

    `exchange` holds the per-exchange entries; `applies_to` is set on the effective
    policy of one exchange (`for_exchange`), the one a case pins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    severity: dict[Severity, SeverityPolicy]
    whitelist: WhitelistPolicy = Field(default_factory=WhitelistPolicy)
    exchange: dict[ExchangeId, ExchangePolicy] = Field(default_factory=dict)
    applies_to: str | None = None
    four_eyes: FourEyesPolicy = Field(default_factory=FourEyesPolicy)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [s.value for s in Severity if s not in self.severity]
        if missing:
            raise ValueError(f"severity table lacks {', '.join(missing)}")
        unnamed = [x for x in self.exchange if self.sender_for(x) is None]
        if unnamed:
            raise ValueError(
                f"exchange.{unnamed[0]}.sender needs name_ko and name_en"
                " (only the DAXA members are known by name)"
            )
        return self

    def for_severity(self, severity: Severity) -> SeverityPolicy:
        """The rules for one severity."""
        return self.severity[severity]

    def knows_exchange(self, exchange: str) -> bool:
        """A DAXA member, or an exchange the file gives an entry."""
        return exchange in DAXA_MEMBERS or exchange in self.exchange

    def exchange_problem(self, exchange: str) -> str | None:
        """Why cases cannot be opened on `exchange` (intake refuses it), or None."""
        if self.knows_exchange(exchange):
            return None
        return (
            f"exchange {exchange!r} is not known: cases are opened on "
            f"{', '.join(self.known_exchanges())}; another exchange needs an "
            f"[exchange.{exchange}.sender] entry with name_ko and name_en in the policy file"
        )

    def known_exchanges(self) -> list[str]:
        """Every exchange id cases may be opened on, DAXA members first."""
        return [*DAXA_MEMBERS, *(x for x in sorted(self.exchange) if x not in DAXA_MEMBERS)]

    def sender_for(self, exchange: str) -> ResolvedSender | None:
        """Who notices on `exchange` come from; None for an unknown exchange."""
        entry = self.exchange.get(exchange)
        return resolve_sender(exchange, entry.sender if entry else None)

    def for_exchange(self, exchange: str) -> "LadderPolicy":
        """The effective policy of one exchange: its overrides applied, its entry kept."""
        entry = self.exchange.get(exchange)
        severity = {**self.severity, **(entry.severity if entry else {})}
        return self.model_copy(
            update={
                "severity": severity,
                "exchange": {exchange: entry} if entry else {},
                "applies_to": exchange,
            }
        )


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


# Tables of the same file that domain.detection.policy, domain.rings and domain.appeals read.
DETECTION_TABLES = frozenset({"detection", "detectors", "rings"})
OTHER_TABLES = DETECTION_TABLES | {"appeals"}


def policy_problems(error: ValidationError) -> str:
    """Each problem as `field.path: message`, for PolicyError messages."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or '(top level)'}: {e['msg']}"
        for e in error.errors()
    )


def parse_policy(text: str, source: str) -> LadderPolicy:
    """Read a policy from TOML text; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy {source}: not valid TOML: {error}") from error
    ladder = {name: value for name, value in data.items() if name not in OTHER_TABLES}
    ladder["exchange"] = _with_base_tables(ladder.get("exchange"), ladder.get("severity"))
    try:
        return LadderPolicy.model_validate(ladder)
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {policy_problems(error)}") from error


def _with_base_tables(exchanges: Any, severity: Any) -> Any:
    """Each exchange's severity overrides on top of the file's own tables of that severity."""
    if not isinstance(exchanges, dict):
        return {} if exchanges is None else exchanges  # the model says what is wrong
    base = severity if isinstance(severity, dict) else {}
    merged: dict[str, Any] = {}
    for exchange, entry in exchanges.items():
        tables = entry.get("severity") if isinstance(entry, dict) else None
        if isinstance(tables, dict):
            entry = {
                **entry,
                "severity": {
                    name: {**_table(base.get(name)), **table} if isinstance(table, dict) else table
                    for name, table in tables.items()
                },
            }
        merged[exchange] = entry
    return merged


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class LoadPolicyInput(BaseModel):
    """Input of the `load_policy` activity: which case asks, and its exchange."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    exchange: str = ""  # the case's; older cases asked without it and pinned the whole file


class LoadPolicyResult(BaseModel):
    """The policy the worker loaded at start; the case pins it for its whole life."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: LadderPolicy
