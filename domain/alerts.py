"""Surveillance alerts: what was detected on a key."""

import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from domain.ids import KEY_ID_PATTERN
from domain.privacy import private_key_path

MAX_EVIDENCE_BYTES = 8 * 1024


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class AlertKind(StrEnum):
    KEY_SHARING = "key_sharing"
    IP_ANOMALY = "ip_anomaly"
    SPOOFING = "spoofing"
    WASH_TRADING = "wash_trading"
    COORDINATED_ACTIVITY = "coordinated_activity"
    OTHER = "other"


def _bounded_evidence(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, separators=(",", ":"), default=str).encode())
    if size > MAX_EVIDENCE_BYTES:
        raise ValueError(f"evidence is {size} bytes; at most {MAX_EVIDENCE_BYTES} allowed")
    path = private_key_path(value, "evidence")
    if path is not None:
        # The audit log would refuse it: evidence carries ids and measures, never contacts.
        raise ValueError(f"{path} is named like a contact or a secret; evidence must not carry one")
    return value


KeyId = Annotated[str, Field(pattern=KEY_ID_PATTERN)]
AccountId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
ExchangeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
Evidence = Annotated[dict[str, Any], AfterValidator(_bounded_evidence)]


class Alert(BaseModel):
    """One surveillance alert about one API key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
    key_id: KeyId
    account_id: AccountId
    exchange: ExchangeId
    kind: AlertKind
    severity: Severity
    observed_at: AwareDatetime
    evidence: Evidence = Field(default_factory=dict)


def observed_too_late(alert: Alert, now: datetime, clock_skew: timedelta) -> str | None:
    """Why the alert cannot have been observed yet (beyond `clock_skew` after `now`), or None."""
    if alert.observed_at <= now + clock_skew:
        return None
    return (
        f"observed_at {alert.observed_at.isoformat()} lies in the future "
        f"(more than {int(clock_skew.total_seconds())} s after now)"
    )
