"""The DAXA ladder policy: per-severity durations and thresholds, as data.

The policy is written in TOML with ISO-8601 durations. Calendar units (years, months)
are refused because their length depends on the date they are added to.
"""

import re
import tomllib
from datetime import timedelta
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from domain.alerts import Severity
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
    """The whole ladder: one `SeverityPolicy` per severity, under a version name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    severity: dict[Severity, SeverityPolicy]
    whitelist: WhitelistPolicy = Field(default_factory=WhitelistPolicy)
    four_eyes: FourEyesPolicy = Field(default_factory=FourEyesPolicy)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [s.value for s in Severity if s not in self.severity]
        if missing:
            raise ValueError(f"severity table lacks {', '.join(missing)}")
        return self

    def for_severity(self, severity: Severity) -> SeverityPolicy:
        """The rules for one severity."""
        return self.severity[severity]


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


# Tables of the same file that domain.detection.policy reads.
DETECTION_TABLES = frozenset({"detection", "detectors"})


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
    ladder = {name: value for name, value in data.items() if name not in DETECTION_TABLES}
    try:
        return LadderPolicy.model_validate(ladder)
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {policy_problems(error)}") from error


class LoadPolicyInput(BaseModel):
    """Input of the `load_policy` activity: which case asks (for logs only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str


class LoadPolicyResult(BaseModel):
    """The policy the worker loaded at start; the case pins it for its whole life."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: LadderPolicy
