"""The detectors' thresholds and the sweep's rhythm: `[detection]` and `[detectors.<name>]`.

Both tables live in the policy file beside the ladder and have shipped defaults, so a file
without them keeps working. A bad table fails at start, naming the field, like the ladder.
"""

import tomllib
from datetime import timedelta
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.alerts import Severity
from domain.policy import IsoDuration, PolicyError, format_iso_duration, policy_problems

KEY_BUCKET = timedelta(minutes=1)  # key, network and decision counts, per minute
ORIGIN_BUCKET = timedelta(minutes=10)  # origin and key counts: windows of hours, not minutes


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorPolicy(_Table):
    """What every detector has: a version (part of its alert ids), a window and a severity."""

    version: int = Field(default=1, ge=1, le=9999)
    enabled: bool = True
    window: IsoDuration
    severity: Severity

    @property
    def bucket(self) -> timedelta:
        return KEY_BUCKET

    @model_validator(mode="after")
    def _window_fits_buckets(self) -> Self:
        # Windows hop by half their length, and a half must hold whole buckets.
        if self.window <= timedelta(0) or self.window % (2 * self.bucket):
            raise ValueError(f"window must be a positive multiple of {2 * self.bucket}")
        return self


class ManyNetworksPolicy(DetectorPolicy):
    """One key used from at least `min_networks` /24 or /48 networks within the window."""

    window: IsoDuration = timedelta(minutes=30)
    min_networks: int = Field(default=3, ge=2, le=1000)
    severity: Severity = Severity.MEDIUM


class WhitelistProbingPolicy(DetectorPolicy):
    """At least `min_denials` `ip_not_whitelisted` denials for one key within the window."""

    window: IsoDuration = timedelta(minutes=10)
    min_denials: int = Field(default=5, ge=1, le=100_000)
    severity: Severity = Severity.LOW


class SharedOriginPolicy(DetectorPolicy):
    """One IP or TLS fingerprint used with keys of `min_accounts`..`max_accounts` accounts."""

    # 2: an origin popular in the half-window before a window is not judged in it.
    version: int = Field(default=2, ge=1, le=9999)
    window: IsoDuration = timedelta(days=1)
    min_accounts: int = Field(default=3, ge=2, le=1000)
    # More accounts than this behind one origin is a carrier NAT or a popular client library,
    # not a ring of lent keys.
    max_accounts: int = Field(default=50, ge=2, le=100_000)
    origins: tuple[Literal["ip", "tls"], ...] = Field(default=("ip", "tls"), min_length=1)
    severity: Severity = Severity.MEDIUM

    @property
    def bucket(self) -> timedelta:
        return ORIGIN_BUCKET

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.max_accounts < self.min_accounts:
            raise ValueError("max_accounts must not be smaller than min_accounts")
        return self


class ClientDriftPolicy(DetectorPolicy):
    """One key used with at least `min_fingerprints` distinct JA4 fingerprints in the window.

    What the other detectors cannot see: a borrower let in through the owner's own
    whitelisted server (one network, one account, every request allowed)."""

    window: IsoDuration = timedelta(hours=1)
    min_fingerprints: int = Field(default=3, ge=2, le=1000)
    severity: Severity = Severity.LOW

    @property
    def bucket(self) -> timedelta:
        return ORIGIN_BUCKET


class Detectors(_Table):
    """One table per detector; each left out keeps its defaults."""

    many_networks: ManyNetworksPolicy = ManyNetworksPolicy()
    whitelist_probing: WhitelistProbingPolicy = WhitelistProbingPolicy()
    shared_origin: SharedOriginPolicy = SharedOriginPolicy()
    client_drift: ClientDriftPolicy = ClientDriftPolicy()


DetectorName = Literal["many_networks", "whitelist_probing", "shared_origin", "client_drift"]
DETECTOR_NAMES: tuple[DetectorName, ...] = (
    "many_networks",
    "whitelist_probing",
    "shared_origin",
    "client_drift",
)


class SweepPolicy(_Table):
    """How often the sweep runs and what it keeps."""

    every: IsoDuration = timedelta(minutes=1)
    # Rows younger than this wait for the next sweep: PostgreSQL may commit ids out of order.
    settle: IsoDuration = timedelta(seconds=2)
    retention: IsoDuration = timedelta(days=90)
    # Rows per counting round: one write transaction each (on SQLite ~0.6 s of the lock).
    max_rows_per_ingest: int = Field(default=50_000, ge=100, le=10_000_000)
    # Up to a million rows a sweep: a minute at 16,000 requests/s, so pruning keeps up.
    prune_batch: int = Field(default=10_000, ge=1, le=1_000_000)
    prune_batches_per_sweep: int = Field(default=100, ge=1, le=10_000)

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.every < timedelta(seconds=1):
            raise ValueError("every must be at least PT1S")
        if self.settle < timedelta(0):
            raise ValueError("settle must not be negative")
        if self.retention < timedelta(days=1):
            raise ValueError("retention must be at least P1D")
        return self


class DetectionPolicy(_Table):
    """The `[detection]` and `[detectors.*]` tables of a policy file."""

    detection: SweepPolicy = SweepPolicy()
    detectors: Detectors = Detectors()

    @model_validator(mode="after")
    def _retention_covers_windows(self) -> Self:
        longest = max(self.detector(name).window for name in DETECTOR_NAMES)
        if self.detection.retention < longest:
            window = format_iso_duration(longest)
            raise ValueError(f"detection.retention must be at least the longest window ({window})")
        return self

    def detector(self, name: DetectorName) -> DetectorPolicy:
        """One detector's table."""
        policy: DetectorPolicy = getattr(self.detectors, name)
        return policy


def parse_detection_policy(text: str, source: str) -> DetectionPolicy:
    """The detection tables of a policy file; PolicyError naming the field if one is bad."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"policy {source}: not valid TOML: {error}") from error
    tables = {name: data[name] for name in ("detection", "detectors") if name in data}
    try:
        return DetectionPolicy.model_validate(tables)
    except ValidationError as error:
        raise PolicyError(f"policy {source}: {policy_problems(error)}") from error
