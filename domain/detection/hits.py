"""A detector's finding and the surveillance alert it becomes, with bounded evidence."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.alerts import Alert, AlertKind, Severity
from domain.detection.tallies import Tally
from domain.policy import format_iso_duration

MAX_LISTED = 20  # networks, origins or related keys named in one alert's evidence


@dataclass(frozen=True)
class Hit:
    """One detector's finding on one key in one window."""

    detector: str
    version: int
    key_id: str
    subject: str  # what the id is built from: the key, or the origin and the key
    window_start: datetime
    window_end: datetime
    kind: AlertKind
    severity: Severity
    evidence: dict[str, Any] = field(hash=False)
    observed_at: datetime

    @property
    def alert_id(self) -> str:
        """Built from detector, version, subject and window: a re-run raises the same id."""
        digest = hashlib.sha256(self.subject.encode()).hexdigest()[:20]
        return f"det.{self.detector}.v{self.version}.{self.window_start:%Y%m%dT%H%MZ}.{digest}"


def listed(values: set[str]) -> dict[str, Any]:
    """At most MAX_LISTED values, sorted, and how many there were."""
    ordered = sorted(values)
    return {"values": ordered[:MAX_LISTED], "total": len(ordered)}


def row_span(tallies: list[Tally]) -> dict[str, Any]:
    """The first and last access-log rows behind the tallies."""
    first = min(tallies, key=lambda t: t.first_id)
    last = max(tallies, key=lambda t: t.last_id)
    return {
        "first_row": {"id": first.first_id, "at": first.first_at.isoformat()},
        "last_row": {"id": last.last_id, "at": last.last_at.isoformat()},
    }


def base_evidence(
    name: str, version: int, thresholds: dict[str, Any], start: datetime, end: datetime
) -> dict[str, Any]:
    """What every detector's evidence starts with."""
    return {
        "detector": name,
        "version": version,
        "thresholds": {
            key: format_iso_duration(value) if hasattr(value, "total_seconds") else value
            for key, value in thresholds.items()
        },
        "window": {"start": start.isoformat(), "end": end.isoformat()},
    }


def alert_for(hit: Hit, account_id: str, exchange: str) -> Alert:
    """The alert that carries a hit into intake, for the key's registered owner."""
    return Alert(
        alert_id=hit.alert_id,
        key_id=hit.key_id,
        account_id=account_id,
        exchange=exchange,
        kind=hit.kind,
        severity=hit.severity,
        observed_at=hit.observed_at,
        evidence=hit.evidence,
    )
