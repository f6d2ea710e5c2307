"""A key case as officers and the API see it: the state the `case` query returns.

New fields always get defaults, so that cases carried across continue-as-new and
histories recorded by older code keep loading.
"""

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.activity_io import StoreRefusal
from domain.alerts import Alert, AlertKind, Severity
from domain.keys import KeyStatus
from domain.notices import Channel, DeliveryStatus, ExpiryReason, NoticeKind
from domain.officer import OfficerAction, PendingApproval
from domain.policy import LadderPolicy
from domain.stages import CaseStage

RECENT_ALERT_IDS = 20  # shown with the case; the workflow keeps a longer window to drop repeats
MAX_ACTIONS_KEPT = 200  # the audit log keeps them all; the case shows the latest


class QueryName:
    CASE = "case"  # -> CaseState


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertDigest(_Model):
    """Alerts seen by the case, aggregated so that a flood stays small."""

    count: int = 0  # distinct alert ids
    duplicates: int = 0  # repeated deliveries that changed nothing
    kinds: dict[AlertKind, int] = Field(default_factory=dict)
    highest_severity: Severity | None = None
    first_received_at: AwareDatetime | None = None
    last_received_at: AwareDatetime | None = None
    recent_ids: list[str] = Field(default_factory=list)  # newest last


class NoticeChannelState(_Model):
    """One channel of one notice: the send outcome, advanced by delivery events."""

    channel: Channel
    status: DeliveryStatus
    outbox_id: str
    provider_message_id: str | None = None
    error: str | None = None
    updated_at: AwareDatetime


class NoticeRecord(_Model):
    """A notice the case asked for, e.g. `warning` or `kyc_reminder:0:PT6H`."""

    notice_id: str
    kind: NoticeKind
    requested_at: AwareDatetime
    deadline: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None  # None while the send is in flight
    channels: list[NoticeChannelState] = Field(default_factory=list)
    error: str | None = None  # why the send gave up, if it did
    # A retry through one channel after the other failed (`domain.reach`): which notice, which
    # channel. The notice retried shows the channels that reached the owner, its own or a retry's.
    fallback_of: str | None = None
    via: Channel | None = None
    reached_by: list[Channel] = Field(default_factory=list)
    expiry_reason: ExpiryReason | None = None  # what the expiry notice tells the owner
    officer_reason: str | None = None


class ActionRecord(_Model):
    """An officer action the case applied."""

    seq: int  # 1, 2, ... within the case; part of the action's audit event id
    action: OfficerAction
    actor: str
    reason: str
    at: AwareDatetime
    deadline: AwareDatetime | None = None
    assignee: str | None = None
    text: str | None = None
    ring_id: str | None = None  # the ring the action was fanned out from
    approved_by: str | None = None  # the second officer, for a four-eyes action


class KycRecord(_Model):
    """A re-verification result the case received."""

    passed: bool
    reference: str
    actor: str
    received_at: AwareDatetime
    stage: CaseStage  # the stage it arrived in


class StageChange(_Model):
    """One step of the case through the stage_rules."""

    stage: CaseStage
    at: AwareDatetime
    reason: str
    actor: str = "keycase"


class CaseState(_Model):
    """Everything about one case; what `GET /v1/cases/{case_id}` shows."""

    case_id: str
    key_id: str
    account_id: str
    exchange: str
    stage: CaseStage = CaseStage.MONITORING
    severity: Severity = Severity.LOW
    policy_version: str
    policy_exchange: str | None = None  # whose effective policy it pinned (None: older cases)
    opened_at: AwareDatetime
    closed_at: AwareDatetime | None = None
    monitoring_until: AwareDatetime | None = None
    kyc_requested_at: AwareDatetime | None = None
    kyc_deadline: AwareDatetime | None = None
    kyc_deadline_max: AwareDatetime | None = None
    kyc_deadline_revision: int = 0  # bumped by each extension; reminders follow the latest
    kyc_deadline_revised_at: AwareDatetime | None = None
    kyc_reminders_before: list[timedelta] = Field(default_factory=list)  # pinned at warning
    probation_until: AwareDatetime | None = None
    restricted: bool = False
    key_status: KeyStatus | None = None  # as read back from the registry
    key_gateway_reason: str | None = None  # the gateway's answer for the key, read back
    assigned_to: str | None = None
    # A dismiss or expire_now waiting for a second officer (`domain.four_eyes`).
    pending_approval: PendingApproval | None = None
    approvals_requested: int = 0
    alerts: AlertDigest = Field(default_factory=AlertDigest)
    notices: list[NoticeRecord] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    action_count: int = 0
    kyc_results: list[KycRecord] = Field(default_factory=list)
    stages: list[StageChange] = Field(default_factory=list)
    # Facts the store refused (the case went on without them); the latest, and how many.
    store_refusals: list[StoreRefusal] = Field(default_factory=list)
    store_refusal_count: int = 0
    runs: int = 1  # workflow runs in the chain (continue-as-new keeps the case)
    ring_id: str | None = None  # the ring its key belongs to (domain.rings), once told
    ring_size: int = 0  # the ring's accounts when the case was last told

    def notice(self, notice_id: str) -> NoticeRecord | None:
        """The notice with this id, if the case asked for it."""
        return next((n for n in self.notices if n.notice_id == notice_id), None)


class KeyCaseInput(_Model):
    """Starts (or continues) the case workflow of one key.

    The API builds it from an alert alone; the `carried_*` fields are set only by
    continue-as-new: with a state when a long case goes on in a new run, with alerts
    when they reached a case that had ended and so open the key's next case.
    """

    key_id: str
    account_id: str
    exchange: str
    carried_state: CaseState | None = None
    carried_policy: LadderPolicy | None = None
    carried_alert_ids: list[str] = Field(default_factory=list)  # the dedupe window
    carried_alerts: list[Alert] = Field(default_factory=list)  # to open the next case with
    carried_undecided: str = ""  # alerts a long case's next run decides (`domain.carry`)


def case_summary(key_id: str, exchange: str) -> str:
    """The static summary shown in the Temporal UI (ids only: no contacts, no secrets)."""
    return f"Key case for API key `{key_id}` on {exchange}"
