"""Audit facts a case records: stable event type names and how each fact is built.

Event ids are idempotency keys built from the case id and the step (never a run id or
an attempt), so that a replayed or retried write appends nothing new. Payloads carry
ids and outcomes only: never contacts or secrets.
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.activity_io import (
    ApplyKeyMeasureInput,
    AuditFact,
    ChannelOutcome,
    KeyMeasure,
    KeyStateResult,
    SendNoticeInput,
    StoreRefusal,
)
from domain.alerts import Alert
from domain.appeals import AppealInput, AppealState, AppealStatus
from domain.case import ActionRecord, CaseState, KycRecord, NoticeRecord, StageChange
from domain.keys import KeyStatus
from domain.messages import DeliveryEvent
from domain.officer import PendingApproval
from domain.outcomes import closing_payload
from domain.privacy import private_key_path


class EventType:
    """Audit event type names; stored in every row, so never renamed."""

    CASE_OPENED = "case.opened"
    ALERT_RECEIVED = "alert.received"
    ALERT_PASSED_ON = "alert.passed_on"
    STAGE_CHANGED = "stage.changed"
    NOTICE_SENT = "notice.sent"
    NOTICE_DELIVERY = "notice.delivery"
    OFFICER_ACTION = "officer.action"
    # Four eyes (`domain.four_eyes`): each step of a request for a second officer.
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_APPROVED = "approval.approved"
    APPROVAL_REJECTED = "approval.rejected"
    APPROVAL_LAPSED = "approval.lapsed"
    KYC_RESULT = "kyc.result"
    CASE_CLOSED = "case.closed"
    KEY_MEASURE_FAILED = "key.measure_failed"
    STORE_REFUSED = "store.refused"
    # Written by the `apply_key_measure` activity in the same transaction as the change.
    KEY_STATUS_CHANGED = "key.status_changed"
    KEY_STATUS_UNCHANGED = "key.status_unchanged"  # the measure did not apply (already expired)
    KEY_EXPIRY_READ_BACK = "key.expiry_read_back"
    # An appeal of an expiry (AppealWorkflow) and the replacement key it allowed.
    APPEAL_FILED = "appeal.filed"
    APPEAL_UPHELD = "appeal.upheld"
    APPEAL_REJECTED = "appeal.rejected"
    KEY_REPLACED = "key.replaced"
    # Written by a ring's workflow (domain.rings.audit).
    RING_FORMED = "ring.formed"
    RING_MEMBER_JOINED = "ring.member_joined"
    RING_MERGED = "ring.merged"
    RING_ACTION_FANNED_OUT = "ring.action_fanned_out"


def _fact(
    state: CaseState,
    event_id: str,
    event_type: str,
    at: datetime,
    payload: Mapping[str, Any],
    actor: str = "keycase",
) -> AuditFact:
    return AuditFact(
        event_id=event_id,
        event_type=event_type,
        case_id=state.case_id,
        key_id=state.key_id,
        actor=actor,
        occurred_at=at,
        payload=dict(payload),
    )


def case_opened(state: CaseState) -> AuditFact:
    """The case began (first run of the key's workflow chain)."""
    payload = {
        "account_id": state.account_id,
        "exchange": state.exchange,
        "policy_version": state.policy_version,
    }
    return _fact(state, f"{state.case_id}:opened", EventType.CASE_OPENED, state.opened_at, payload)


def alert_received(state: CaseState, alert: Alert, received_at: datetime) -> AuditFact:
    """A new alert joined the case; its evidence is kept here, bounded by the Alert model."""
    payload = alert.model_dump(mode="json", exclude={"key_id"})
    return _fact(state, f"alert:{alert.alert_id}", EventType.ALERT_RECEIVED, received_at, payload)


def alert_passed_on(state: CaseState, alert: Alert, received_at: datetime) -> AuditFact:
    """An alert reached the case after it had ended: it opens the key's next case instead."""
    payload = {"alert_id": alert.alert_id, "kind": alert.kind.value}
    event_id = f"{state.case_id}:passed_on:{alert.alert_id}"
    return _fact(state, event_id, EventType.ALERT_PASSED_ON, received_at, payload)


def stage_changed(state: CaseState, change: StageChange) -> AuditFact:
    """The case moved to another stage; `state` is the case after the move."""
    step = len(state.stages)
    payload = {"stage": change.stage.value, "reason": change.reason, "severity": state.severity}
    return _fact(
        state,
        f"{state.case_id}:stage:{step}:{change.stage.value}",
        EventType.STAGE_CHANGED,
        change.at,
        payload,
        actor=change.actor,
    )


def notice_sent(
    notice: SendNoticeInput, outcomes: Sequence[ChannelOutcome], at: datetime
) -> AuditFact:
    """What sending one notice did on each channel.

    Written by `send_notice` itself, in the transaction that records the last channel's
    answer; the case writes it only for a send that gave up (`notice_given_up`).
    """
    payload = {
        "notice_id": notice.notice_id,
        "kind": notice.notice.value,
        "deadline": notice.deadline.isoformat() if notice.deadline else None,
        "channels": [o.model_dump(mode="json") for o in outcomes],
    }
    return AuditFact(
        event_id=_notice_event_id(notice.case_id, notice.notice_id),
        event_type=EventType.NOTICE_SENT,
        case_id=notice.case_id,
        key_id=notice.key_id,
        actor="keycase",
        occurred_at=at,
        payload=payload,
    )


def notice_given_up(state: CaseState, notice: NoticeRecord) -> AuditFact:
    """A notice whose send gave up (its activity ran out of time): why, per the case."""
    payload = {
        "notice_id": notice.notice_id,
        "kind": notice.kind.value,
        "deadline": notice.deadline.isoformat() if notice.deadline else None,
        "error": notice.error,
    }
    at = notice.completed_at or notice.requested_at
    event_id = _notice_event_id(state.case_id, notice.notice_id)
    return _fact(state, event_id, EventType.NOTICE_SENT, at, payload)


def _notice_event_id(case_id: str, notice_id: str) -> str:
    return f"{case_id}:notice:{notice_id}"


def notice_delivery(state: CaseState, event: DeliveryEvent) -> AuditFact:
    """A provider reported what became of one channel of a notice."""
    event_id = (
        f"{state.case_id}:delivery:{event.notice_id}:{event.channel.value}:{event.status.value}"
    )
    payload = event.model_dump(mode="json")
    return _fact(state, event_id, EventType.NOTICE_DELIVERY, event.occurred_at, payload)


def officer_action(state: CaseState, action: ActionRecord) -> AuditFact:
    """An officer acted on the case."""
    payload = action.model_dump(mode="json", exclude={"actor", "at"}, exclude_none=True)
    return _fact(
        state,
        f"{state.case_id}:action:{action.seq}",
        EventType.OFFICER_ACTION,
        action.at,
        payload,
        actor=action.actor,
    )


def approval_requested(state: CaseState, pending: PendingApproval) -> AuditFact:
    """An officer asked for an action that waits for a second officer."""
    return _approval_fact(
        state, pending, "requested", EventType.APPROVAL_REQUESTED, pending.requested_at
    )


def approval_decided(
    state: CaseState,
    pending: PendingApproval,
    approved: bool,
    decided_by: str,
    reason: str,
    at: datetime,
) -> AuditFact:
    """A second officer approved the pending action or rejected it."""
    step, event_type = (
        ("approved", EventType.APPROVAL_APPROVED)
        if approved
        else ("rejected", EventType.APPROVAL_REJECTED)
    )
    return _approval_fact(
        state, pending, step, event_type, at, decided_by=decided_by, decision_reason=reason
    )


def approval_lapsed(
    state: CaseState, pending: PendingApproval, why: str, at: datetime
) -> AuditFact:
    """No second officer decided in time (or the case ended first)."""
    return _approval_fact(state, pending, "lapsed", EventType.APPROVAL_LAPSED, at, lapsed=why)


def _approval_fact(
    state: CaseState,
    pending: PendingApproval,
    step: str,
    event_type: str,
    at: datetime,
    decided_by: str | None = None,
    **more: str,
) -> AuditFact:
    payload = {
        "approval": pending.number,
        "action": pending.action.value,
        "requested_by": pending.requested_by,
        "reason": pending.reason,
        "requested_at": pending.requested_at.isoformat(),
        "lapses_at": pending.lapses_at.isoformat(),
        **({"decided_by": decided_by} if decided_by else {}),
        **more,
    }
    event_id = f"{state.case_id}:approval:{pending.number}:{step}"
    actor = decided_by or (pending.requested_by if step == "requested" else "keycase")
    return _fact(state, event_id, event_type, at, payload, actor=actor)


def kyc_result(state: CaseState, result: KycRecord) -> AuditFact:
    """The owner's re-verification came back."""
    payload = result.model_dump(mode="json", exclude={"actor", "received_at"})
    event_id = f"{state.case_id}:kyc:{result.reference}"
    return _fact(
        state, event_id, EventType.KYC_RESULT, result.received_at, payload, actor=result.actor
    )


def key_measure_failed(state: CaseState, measure: str, error: str, at: datetime) -> AuditFact:
    """The registry refused a measure for good (e.g. an unknown key); the case goes on."""
    payload = {"measure": measure, "error": error[:500]}
    event_id = f"{state.case_id}:key:{measure}:failed"
    return _fact(state, event_id, EventType.KEY_MEASURE_FAILED, at, payload)


def case_closed(state: CaseState) -> AuditFact:
    """The case reached an ending; `state` is the closed case.

    Recorded with the decision, before the ending's key measure and last notice: what
    became of the key is in the measure's own `key.status_changed` fact, of the notice
    in its `notice.sent` fact.
    """
    ending = state.stages[-1]
    by_officer = ending.actor != "keycase" and state.actions
    payload = closing_payload(
        state.stage,
        state.alerts.count,
        ending.reason,
        ending.actor,
        state.actions[-1].reason if by_officer else None,
    )
    at = state.closed_at or state.opened_at
    return _fact(state, f"{state.case_id}:closed", EventType.CASE_CLOSED, at, payload)


def key_status(request: ApplyKeyMeasureInput, before: KeyStatus, after: KeyStatus) -> AuditFact:
    """What a key measure did to the key's status (keyed by the measure's own event id)."""
    return AuditFact(
        event_id=request.event_id,
        event_type=(
            EventType.KEY_STATUS_CHANGED if after is not before else EventType.KEY_STATUS_UNCHANGED
        ),
        case_id=request.case_id,
        key_id=request.key_id,
        actor=request.actor,
        occurred_at=request.occurred_at,
        payload={
            "measure": request.measure.value,
            "from": before.value,
            "to": after.value,
            "reason": request.reason,
        },
    )


def expiry_read_back(request: ApplyKeyMeasureInput, state: KeyStateResult) -> AuditFact | None:
    """What an expiry left behind, read back from the registry (None for other measures)."""
    if request.measure is not KeyMeasure.EXPIRE:
        return None
    return AuditFact(
        event_id=f"{request.event_id}:read-back",
        event_type=EventType.KEY_EXPIRY_READ_BACK,
        case_id=request.case_id,
        key_id=request.key_id,
        actor=request.actor,
        occurred_at=request.occurred_at,
        payload={
            "status": state.status.value,
            "usable_permissions": [p.value for p in state.permissions],
            "gateway_reason": state.gateway_reason,
            "expired_at": state.expired_at,
        },
    )


def store_refused(state: CaseState, refusals: Sequence[StoreRefusal], at: datetime) -> AuditFact:
    """The store refused some of the case's facts; the case went on (`state` counts them)."""
    payload = {"refused": [r.model_dump(mode="json") for r in refusals]}
    event_id = f"{state.case_id}:refused:{state.store_refusal_count}"
    return _fact(state, event_id, EventType.STORE_REFUSED, at, payload)


def refused_by_the_log(facts: Sequence[AuditFact]) -> tuple[list[AuditFact], list[StoreRefusal]]:
    """The facts the audit log takes, and a refusal for each it would refuse."""
    taken: list[AuditFact] = []
    refused: list[StoreRefusal] = []
    for fact in facts:
        path = private_key_path(fact.payload, "payload")
        if path is None:
            taken.append(fact)
        else:
            reason = f"{path} is named like a contact or a secret"
            refused.append(
                StoreRefusal(event_id=fact.event_id, event_type=fact.event_type, reason=reason)
            )
    return taken, refused


def appeal_filed(filing: AppealInput) -> AuditFact:
    """An appeal of the case's expiry was filed for the owner: its digest, not its words."""
    statement = filing.statement.encode()
    payload = {
        "exchange": filing.exchange,
        "expired_at": filing.expired_at.isoformat(),
        "statement_sha256": hashlib.sha256(statement).hexdigest(),
        "statement_bytes": len(statement),
    }
    return AuditFact(
        event_id=f"{filing.case_id}:appeal:filed",
        event_type=EventType.APPEAL_FILED,
        case_id=filing.case_id,
        key_id=filing.key_id,
        actor=filing.filed_by,
        occurred_at=filing.filed_at,
        payload=payload,
    )


def appeal_decided(appeal: AppealState) -> AuditFact:
    """An officer upheld or rejected the appeal; one decision per appeal."""
    allowed_from = appeal.replacement_allowed_from
    payload = {
        "status": appeal.status.value,
        "reason": appeal.decision_reason,
        "replacement_allowed_from": allowed_from.isoformat() if allowed_from else None,
    }
    upheld = appeal.status is AppealStatus.UPHELD
    return AuditFact(
        event_id=f"{appeal.case_id}:appeal:decided",
        event_type=EventType.APPEAL_UPHELD if upheld else EventType.APPEAL_REJECTED,
        case_id=appeal.case_id,
        key_id=appeal.key_id,
        actor=appeal.decided_by or "keycase",
        occurred_at=appeal.decided_at or appeal.filed_at,
        payload=payload,
    )


def key_replaced(
    case_id: str, expired_key_id: str, new_key_id: str, actor: str, at: datetime
) -> AuditFact:
    """A replacement key was registered for a key whose expiry's appeal was upheld."""
    return AuditFact(
        event_id=f"{case_id}:appeal:replacement",
        event_type=EventType.KEY_REPLACED,
        case_id=case_id,
        key_id=expired_key_id,
        actor=actor,
        occurred_at=at,
        payload={"replacement_key_id": new_key_id},
    )


class AuditRecord(BaseModel):
    """One audit row as readers see it (the store, reports), with its hashes."""

    model_config = ConfigDict(frozen=True)

    seq: int
    event_id: str
    event_type: str
    case_id: str | None
    key_id: str
    actor: str
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    payload: dict[str, Any]
    prev_hash: str
    row_hash: str
