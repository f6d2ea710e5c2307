"""Officer actions as workflow updates: what they do, and what the validators refuse."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType as HistoryEvent
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError

from domain import search_attributes
from domain.activity_io import KeyMeasure
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.case import CaseState
from domain.keys import KeyStatus
from domain.notices import NoticeKind
from domain.officer import (
    AddNoteInput,
    AssignInput,
    ConfirmInput,
    DismissInput,
    ExpireNowInput,
    ExtendKycDeadlineInput,
    OfficerAction,
    OfficerActionResult,
    OfficerInput,
)
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, Handle


async def _act(handle: Handle, action: OfficerAction, command: OfficerInput) -> OfficerActionResult:
    """Send an officer action by update name, as the API does."""
    result: OfficerActionResult = await handle.execute_update(
        action.value, command, result_type=OfficerActionResult
    )
    return result


async def _awaiting_kyc(harness: CaseHarness) -> tuple[Handle, CaseState]:
    handle = await harness.open(Severity.HIGH)
    return handle, await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)


async def _accepted_updates(handle: Handle) -> int:
    history = await handle.fetch_history()
    accepted = HistoryEvent.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(1 for e in history.events if e.event_type == accepted)


async def test_officer_dismiss_closes_case_and_lifts_flag(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)

    result = await _act(
        handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="known market maker")
    )
    state = await handle.result()

    assert result.stage is CaseStage.DISMISSED
    assert state.stage is CaseStage.DISMISSED
    assert state.stages[-1].actor == "kim"
    assert harness.store.keys[state.key_id] is KeyStatus.ACTIVE
    [action] = harness.store.of_type(EventType.OFFICER_ACTION)
    assert action.actor == "kim"
    assert action.payload["reason"] == "known market maker"


async def test_officer_confirm_escalates_monitored_case(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)

    result = await _act(
        handle, OfficerAction.CONFIRM, ConfirmInput(actor="kim", reason="same IPs as a known ring")
    )
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    assert result.stage is CaseStage.WARNED
    assert state.alerts.count == 1
    assert harness.notices.ids() == ["warning"]


async def test_officer_expire_now_expires_key_and_tells_owner(harness: CaseHarness) -> None:
    handle, _ = await _awaiting_kyc(harness)

    await _act(
        handle,
        OfficerAction.EXPIRE_NOW,
        ExpireNowInput(actor="lee", reason="owner admitted lending"),
    )
    state = await handle.result()

    assert state.stage is CaseStage.EXPIRED
    assert harness.store.measures[-1].measure is KeyMeasure.EXPIRE
    assert harness.store.measures[-1].actor == "lee"
    assert harness.notices.ids() == ["warning", "expiry"]


async def test_extended_deadline_moves_reminders_and_expiry(harness: CaseHarness) -> None:
    handle, state = await _awaiting_kyc(harness)
    assert state.kyc_deadline is not None
    await harness.env.sleep(timedelta(days=2, hours=1))  # past the first reminder
    await harness.until(handle, lambda s: s.notice("kyc_reminder:0:P1D") is not None)

    new_deadline = state.kyc_deadline + timedelta(days=2)
    result = await _act(
        handle,
        OfficerAction.EXTEND_KYC_DEADLINE,
        ExtendKycDeadlineInput(actor="kim", reason="owner abroad", deadline=new_deadline),
    )
    final = await handle.result()

    assert result.kyc_deadline == new_deadline
    assert final.stage is CaseStage.EXPIRED
    assert final.closed_at is not None
    assert abs(final.closed_at - new_deadline) < timedelta(seconds=1)
    assert harness.notices.ids() == [
        "warning",
        "kyc_reminder:0:P1D",
        "kyc_reminder:1:P1D",
        "kyc_reminder:1:PT6H",
        "expiry",
    ]


async def test_assign_and_note_show_in_case_and_search_attributes(harness: CaseHarness) -> None:
    handle, _ = await _awaiting_kyc(harness)

    await _act(
        handle,
        OfficerAction.ASSIGN,
        AssignInput(actor="kim", reason="my region", assignee="officer.lee"),
    )
    await _act(
        handle,
        OfficerAction.ADD_NOTE,
        AddNoteInput(actor="lee", reason="call log", text="owner called"),
    )
    state = await harness.state(handle)
    described = await handle.describe()

    assert state.assigned_to == "officer.lee"
    assert [a.action for a in state.actions] == [OfficerAction.ASSIGN, OfficerAction.ADD_NOTE]
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "**Stage** AWAITING_KYC" in metadata.current_details
    assert "**assigned to** officer.lee" in metadata.current_details
    assert state.account_id not in metadata.current_details
    attributes = described.typed_search_attributes
    assert attributes.get(search_attributes.ASSIGNED_TO) == "officer.lee"
    assert attributes.get(search_attributes.CASE_STAGE) == "AWAITING_KYC"
    assert attributes.get(search_attributes.KEY_ID) == state.key_id
    assert attributes.get(search_attributes.EXCHANGE) == "upbit"
    assert attributes.get(search_attributes.SEVERITY) == "high"
    deadline = attributes.get(search_attributes.KYC_DEADLINE)
    assert deadline is not None and state.kyc_deadline is not None
    assert abs(deadline - state.kyc_deadline) < timedelta(seconds=1)


Make = Callable[[CaseState], OfficerInput]
REJECTIONS: list[tuple[str, OfficerAction, Make, str]] = [
    (
        "missing reason",
        OfficerAction.DISMISS,
        lambda s: DismissInput(actor="kim", reason="   "),
        "a reason is required",
    ),
    (
        "deadline in the past",
        OfficerAction.EXTEND_KYC_DEADLINE,
        lambda s: ExtendKycDeadlineInput(
            actor="kim", reason="r", deadline=s.opened_at - timedelta(days=1)
        ),
        "in the past",
    ),
    (
        "deadline beyond the policy maximum",
        OfficerAction.EXTEND_KYC_DEADLINE,
        lambda s: ExtendKycDeadlineInput(
            actor="kim", reason="r", deadline=s.opened_at + timedelta(days=30)
        ),
        "beyond the policy's maximum",
    ),
    (
        "deadline not later",
        OfficerAction.EXTEND_KYC_DEADLINE,
        lambda s: ExtendKycDeadlineInput(
            actor="kim", reason="r", deadline=s.opened_at + timedelta(days=1)
        ),
        "not later than the current one",
    ),
    (
        "confirm after warning",
        OfficerAction.CONFIRM,
        lambda s: ConfirmInput(actor="kim", reason="r"),
        "only a case in MONITORING",
    ),
    (
        "assign to current assignee",
        OfficerAction.ASSIGN,
        lambda s: AssignInput(actor="kim", reason="r", assignee="nobody-yet"),
        "already assigned",
    ),
    (
        "empty note",
        OfficerAction.ADD_NOTE,
        lambda s: AddNoteInput(actor="kim", reason="r", text=" "),
        "a note needs text",
    ),
]


@pytest.mark.parametrize(
    ("action", "make", "message"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
async def test_validator_rejects_senseless_action_before_history(
    harness: CaseHarness, action: OfficerAction, make: Make, message: str
) -> None:
    handle, state = await _awaiting_kyc(harness)
    if action is OfficerAction.ASSIGN:
        await _act(
            handle,
            OfficerAction.ASSIGN,
            AssignInput(actor="kim", reason="r", assignee="nobody-yet"),
        )

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await _act(handle, action, make(state))

    assert message in str(failure.value.cause)
    after = await harness.state(handle)
    assert after.action_count == (1 if action is OfficerAction.ASSIGN else 0)
    assert await _accepted_updates(handle) == after.action_count


async def test_validator_rejects_extension_when_no_deadline(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.LOW)
    state = await harness.until(handle, lambda s: s.alerts.count == 1)

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await _act(
            handle,
            OfficerAction.EXTEND_KYC_DEADLINE,
            ExtendKycDeadlineInput(
                actor="kim", reason="r", deadline=state.opened_at + timedelta(days=2)
            ),
        )
    assert "has no KYC deadline" in str(failure.value.cause)


async def test_validator_rejects_action_on_closed_case(harness: CaseHarness) -> None:
    harness.notices.held = {NoticeKind.EXPIRY}  # the closed case waits on its last notice
    handle, _ = await _awaiting_kyc(harness)
    await _act(
        handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="kim", reason="lent to a bot farm")
    )
    await harness.until(handle, lambda s: s.stage is CaseStage.EXPIRED)

    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await _act(
            handle, OfficerAction.DISMISS, DismissInput(actor="lee", reason="second thoughts")
        )
    harness.notices.release.set()
    state = await handle.result()

    assert "EXPIRED and takes no more actions" in str(failure.value.cause)
    assert state.stage is CaseStage.EXPIRED
    assert await _accepted_updates(handle) == 1
