"""Four eyes: dismiss and expire-now on a high or critical case wait for a second officer.

The shipped policy as it is (`[four_eyes]`: high and critical, a window of a day).
"""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEvent
from temporalio.client import WorkflowUpdateFailedError

from domain import search_attributes
from domain.activity_io import KeyMeasure
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.case import CaseState
from domain.keys import KeyStatus
from domain.messages import KycResult, SignalName
from domain.officer import (
    ApproveInput,
    DismissInput,
    ExpireNowInput,
    OfficerAction,
    OfficerActionResult,
    OfficerInput,
    RejectPendingInput,
)
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, Handle
from workflows.visibility import details


async def _act(handle: Handle, action: OfficerAction, command: OfficerInput) -> OfficerActionResult:
    result: OfficerActionResult = await handle.execute_update(
        action.value, command, result_type=OfficerActionResult
    )
    return result


async def _awaiting_kyc(harness: CaseHarness, severity: Severity = Severity.HIGH) -> Handle:
    handle = await harness.open(severity)
    await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    return handle


async def _pending_shown(handle: Handle) -> str | None:
    described = await handle.describe()
    return described.typed_search_attributes.get(search_attributes.PENDING_APPROVAL)


async def _accepted_updates(handle: Handle) -> int:
    history = await handle.fetch_history()
    accepted = HistoryEvent.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(1 for e in history.events if e.event_type == accepted)


async def test_expire_now_on_a_high_case_waits_then_a_second_officer_approves_it(
    shipped_harness: CaseHarness,
) -> None:
    harness = shipped_harness
    handle = await _awaiting_kyc(harness)

    asked = await _act(
        handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="kim", reason="lent to a bot farm")
    )
    waiting = await harness.state(handle)
    shown_waiting = await _pending_shown(handle)
    approved = await _act(handle, OfficerAction.APPROVE, ApproveInput(actor="lee", reason="agree"))
    state = await handle.result()

    assert asked.stage is CaseStage.AWAITING_KYC and asked.pending_approval is not None
    assert asked.pending_approval.requested_by == "kim"
    assert waiting.pending_approval == asked.pending_approval
    assert waiting.pending_approval.lapses_at == waiting.pending_approval.requested_at + (
        harness.policy.four_eyes.window
    )
    assert "Waiting for a second officer" in details(waiting)
    assert shown_waiting == "expire_now"
    assert approved.stage is CaseStage.EXPIRED and approved.pending_approval is None
    assert state.pending_approval is None
    assert (state.actions[-1].actor, state.actions[-1].approved_by) == ("kim", "lee")
    assert harness.store.keys[state.key_id] is KeyStatus.EXPIRED
    assert harness.store.measures[-1].measure is KeyMeasure.EXPIRE
    assert harness.notices.ids() == ["warning", "expiry"]
    [requested] = harness.store.of_type(EventType.APPROVAL_REQUESTED)
    [decided] = harness.store.of_type(EventType.APPROVAL_APPROVED)
    assert (requested.actor, requested.payload["action"]) == ("kim", "expire_now")
    assert (decided.actor, decided.payload["requested_by"]) == ("lee", "kim")
    assert decided.payload["decided_by"] == "lee"
    assert await _pending_shown(handle) is None


async def test_an_officer_cannot_approve_or_reject_their_own_request(
    shipped_harness: CaseHarness,
) -> None:
    handle = await _awaiting_kyc(shipped_harness)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))
    accepted = await _accepted_updates(handle)

    with pytest.raises(WorkflowUpdateFailedError) as approving:
        await _act(handle, OfficerAction.APPROVE, ApproveInput(actor="kim", reason="me again"))
    with pytest.raises(WorkflowUpdateFailedError) as rejecting:
        await _act(
            handle, OfficerAction.REJECT_PENDING, RejectPendingInput(actor="kim", reason="oops")
        )
    state = await shipped_harness.state(handle)

    assert "kim asked for dismiss and cannot approve it: a second officer must" in str(
        approving.value.cause
    )
    assert "cannot reject it" in str(rejecting.value.cause)
    assert await _accepted_updates(handle) == accepted  # refused before history
    assert state.stage is CaseStage.AWAITING_KYC
    assert state.pending_approval is not None and state.pending_approval.requested_by == "kim"
    assert shipped_harness.store.of_type(EventType.APPROVAL_APPROVED) == []


async def test_a_rejected_request_leaves_the_case_going_on_and_may_be_asked_again(
    shipped_harness: CaseHarness,
) -> None:
    harness = shipped_harness
    handle = await _awaiting_kyc(harness, Severity.CRITICAL)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))
    with pytest.raises(WorkflowUpdateFailedError) as second:
        await _act(handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="park", reason="lent"))

    rejected = await _act(
        handle, OfficerAction.REJECT_PENDING, RejectPendingInput(actor="lee", reason="evidence")
    )
    after = await harness.state(handle)
    again = await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="new doc"))

    assert "dismiss asked by kim is waiting for a second officer" in str(second.value.cause)
    assert rejected.stage is CaseStage.AWAITING_KYC and rejected.pending_approval is None
    assert after.pending_approval is None and after.actions == []
    assert harness.store.keys[after.key_id] is not KeyStatus.ACTIVE  # still flagged
    [decided] = harness.store.of_type(EventType.APPROVAL_REJECTED)
    assert (decided.actor, decided.payload["requested_by"]) == ("lee", "kim")
    assert decided.payload["decision_reason"] == "evidence"
    assert again.pending_approval is not None and again.pending_approval.number == 2
    assert await _pending_shown(handle) == "dismiss"


async def test_a_request_no_second_officer_decides_lapses_after_the_window(
    shipped_harness: CaseHarness,
) -> None:
    harness = shipped_harness
    handle = await _awaiting_kyc(harness)
    await _act(handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="kim", reason="lending"))

    await harness.env.sleep(harness.policy.four_eyes.window + timedelta(minutes=1))
    state = await harness.until(handle, lambda s: s.pending_approval is None)
    with pytest.raises(WorkflowUpdateFailedError) as late:
        await _act(handle, OfficerAction.APPROVE, ApproveInput(actor="lee", reason="late"))

    assert state.stage is CaseStage.AWAITING_KYC  # the deadline (P3D) is still ahead
    [lapsed] = harness.store.of_type(EventType.APPROVAL_LAPSED)
    assert lapsed.payload["requested_by"] == "kim"
    assert lapsed.payload["lapsed"] == "no second officer decided within the policy's window"
    assert harness.store.of_type(EventType.APPROVAL_APPROVED) == []
    assert "no action is waiting" in str(late.value.cause)
    assert await _pending_shown(handle) is None


async def test_a_case_that_ends_meanwhile_lapses_its_pending_request(
    shipped_harness: CaseHarness,
) -> None:
    harness = shipped_harness
    handle = await _awaiting_kyc(harness)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))

    await handle.signal(
        SignalName.KYC_RESULT,
        KycResult(passed=False, reference="kyc-9", actor="kyc", received_at=datetime.now(UTC)),
    )
    state = await handle.result()

    assert state.stage is CaseStage.EXPIRED and state.pending_approval is None
    [lapsed] = harness.store.of_type(EventType.APPROVAL_LAPSED)
    assert lapsed.payload["lapsed"] == "the case ended as EXPIRED"


async def test_a_low_severity_case_is_dismissed_by_one_officer(
    shipped_harness: CaseHarness,
) -> None:
    handle = await shipped_harness.open(Severity.LOW)
    await shipped_harness.until(handle, lambda s: s.alerts.count == 1)

    result = await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="maker"))
    state: CaseState = await handle.result()

    assert result.stage is CaseStage.DISMISSED and result.pending_approval is None
    assert state.stage is CaseStage.DISMISSED and state.actions[-1].approved_by is None
    assert shipped_harness.store.of_type(EventType.APPROVAL_REQUESTED) == []
