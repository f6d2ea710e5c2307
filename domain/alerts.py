"""Surveillance alerts: what was detected on a key."""

import json
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from domain.ids import KEY_ID_PATTERN
from domain.privacy import private_key_path

MAX_EVIDENCE_BYTES = 8 * 1024
MAX_RELATED_KEYS = 20  # as many as a detector lists (domain.detection.hits.MAX_LISTED)
_KEY_ID = re.compile(KEY_ID_PATTERN)


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
    if "related_keys" in value:
        related_keys(value)  # raises for a malformed list
    return value


def related_keys(evidence: dict[str, Any]) -> list[str]:
    """The key ids `evidence.related_keys` names: a list, or a detector's `{values, total}`.

    At most MAX_RELATED_KEYS, each a well-formed key id; ValueError otherwise."""
    named = evidence.get("related_keys")
    if named is None:
        return []
    values = named.get("values") if isinstance(named, dict) else named
    if not isinstance(values, list) or len(values) > MAX_RELATED_KEYS:
        raise ValueError(
            f"evidence.related_keys must list at most {MAX_RELATED_KEYS} key ids"
            " (or be {values: [...], total: n})"
        )
    for value in values:
        if not isinstance(value, str) or not _KEY_ID.match(value):
            raise ValueError(f"evidence.related_keys: {str(value)[:40]!r} is not a key id")
    return sorted(set(values))


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
