"""The side effects a case asks for: activity names with their input and result models.

Workflows call activities by these names; `activities/` implements them. Every input
carries a business idempotency key (`event_id`, `notice_id`) built from the case id and
the step, never from an attempt or run id, so that a retried activity changes nothing.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.alerts import AlertKind, Severity
from domain.keys import KeyStatus, Permission
from domain.notices import Channel, DeliveryStatus, ExpiryReason, NoticeKind


class ActivityName:
    """Registered activity names (one place, so workflows and workers cannot drift)."""

    LOAD_POLICY = "load_policy"
    RECORD_CASE_FACTS = "record_case_facts"
    APPLY_KEY_MEASURE = "apply_key_measure"
    SEND_NOTICE = "send_notice"
    RECORD_APPEAL_FILED = "record_appeal_filed"
    RECORD_APPEAL_DECISION = "record_appeal_decision"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditFact(_Model):
    """One fact for the audit log; appending the same `event_id` twice writes one row."""

    event_id: str = Field(max_length=300)
    event_type: str = Field(max_length=64)  # stable names, e.g. "alert.received"
    case_id: str | None = None
    key_id: str
    actor: str = "keycase"
    occurred_at: AwareDatetime
    payload: dict[str, Any] = Field(default_factory=dict)  # never contacts or secrets


class RecordCaseFactsInput(_Model):
    facts: list[AuditFact]


class StoreRefusal(_Model):
    """A fact the store refused to record, and why (never the refused payload itself)."""

    event_id: str
    event_type: str
    reason: str = Field(max_length=500)


class RecordCaseFactsResult(_Model):
    appended: int  # rows newly written; facts already present are skipped
    refused: list[StoreRefusal] = Field(default_factory=list)  # the others were written


class KeyMeasure(StrEnum):
    """What a case does to a key in the registry."""

    MONITOR = "monitor"  # ACTIVE -> MONITORED (heightened monitoring)
    UNFLAG = "unflag"  # MONITORED/RESTRICTED -> ACTIVE (case cleared or dismissed)
    RESTRICT = "restrict"  # remove trade and withdraw -> RESTRICTED
    RESTORE = "restore"  # after passed KYC: ACTIVE, original permissions, whitelist only
    EXPIRE = "expire"  # irreversible -> EXPIRED


class ApplyKeyMeasureInput(_Model):
    event_id: str  # e.g. f"{case_id}:key:expire"
    case_id: str
    key_id: str
    measure: KeyMeasure
    actor: str = "keycase"
    reason: str = Field(max_length=500)
    occurred_at: AwareDatetime
    # Facts recorded in the same transaction as the status change (e.g. the stage change).
    facts: list[AuditFact] = Field(default_factory=list)


class KeyStateResult(_Model):
    """What the registry says about the key after the measure, read back from the store."""

    key_id: str
    status: KeyStatus
    permissions: list[Permission]
    allowed_ips: list[str]
    expired_at: datetime | None = None
    # The gateway's decision for this key now (read back after expiry): e.g. "expired".
    gateway_reason: str
    changed: bool  # False when the key was already in the requested state
    refused: list[StoreRefusal] = Field(default_factory=list)  # facts the audit log refused


class SendNoticeInput(_Model):
    notice_id: str  # unique within the case, e.g. "warning", "kyc_reminder:PT6H"
    case_id: str
    key_id: str
    account_id: str
    exchange: str
    notice: NoticeKind
    severity: Severity
    detected: list[AlertKind]
    deadline: AwareDatetime | None = None
    occurred_at: AwareDatetime
    channels: list[Channel] = Field(default_factory=lambda: list(Channel))  # a retry uses one
    # The expiry notice says why (and an officer's reason); older sends carry none.
    expiry_reason: ExpiryReason | None = None
    officer_reason: str | None = Field(default=None, max_length=500)


class ChannelOutcome(_Model):
    channel: Channel
    status: DeliveryStatus
    outbox_id: str
    provider_message_id: str | None = None
    error: str | None = None


class SendNoticeResult(_Model):
    notice_id: str
    outcomes: list[ChannelOutcome]

    @property
    def reached_someone(self) -> bool:
        return any(o.status != DeliveryStatus.FAILED for o in self.outcomes)
