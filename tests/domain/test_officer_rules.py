"""Which officer actions make sense, and what an accepted one records."""

from datetime import timedelta

import pytest

from domain import stage_rules
from domain.actions import apply_action, reject_action
from domain.officer import (
    AddNoteInput,
    AssignInput,
    ConfirmInput,
    DismissInput,
    ExtendKycDeadlineInput,
    OfficerAction,
)
from domain.stages import CaseStage
from tests.domain.case_builders import T0, alert, new_case, warned, with_alerts

NOW = T0 + timedelta(hours=1)


def test_blank_reason_is_rejected_for_every_action() -> None:
    state = with_alerts(new_case(), alert(1))
    for action in OfficerAction:
        command = DismissInput(actor="kim", reason="  ")
        assert reject_action(state, action, command, NOW) == "a reason is required"


def test_closed_case_takes_no_action() -> None:
    state = stage_rules.change_stage(new_case(), CaseStage.DISMISSED, NOW, "done")

    reason = reject_action(
        state, OfficerAction.ADD_NOTE, AddNoteInput(actor="k", reason="r", text="t"), NOW
    )

    assert reason == "the case is DISMISSED and takes no more actions"


def test_confirm_only_in_monitoring() -> None:
    command = ConfirmInput(actor="kim", reason="seen before")

    assert (
        reject_action(with_alerts(new_case(), alert(1)), OfficerAction.CONFIRM, command, NOW)
        is None
    )
    assert "only a case in MONITORING" in str(
        reject_action(warned(), OfficerAction.CONFIRM, command, NOW)
    )


@pytest.mark.parametrize(
    ("shift", "message"),
    [
        (timedelta(hours=-2), "in the past"),  # before NOW
        (timedelta(days=1), "not later than the current one"),
        (timedelta(days=11), "beyond the policy's maximum"),
    ],
)
def test_extension_must_be_later_and_within_maximum(shift: timedelta, message: str) -> None:
    command = ExtendKycDeadlineInput(actor="kim", reason="travel", deadline=T0 + shift)

    assert message in str(reject_action(warned(), OfficerAction.EXTEND_KYC_DEADLINE, command, NOW))


def test_accepted_extension_moves_deadline_and_bumps_revision() -> None:
    state = warned()
    deadline = T0 + timedelta(days=5)
    command = ExtendKycDeadlineInput(actor="kim", reason="travel", deadline=deadline)
    assert reject_action(state, OfficerAction.EXTEND_KYC_DEADLINE, command, NOW) is None

    state, record = apply_action(state, OfficerAction.EXTEND_KYC_DEADLINE, command, NOW)

    assert state.kyc_deadline == deadline
    assert state.kyc_deadline_revision == 1
    assert state.kyc_deadline_revised_at == NOW
    assert record.seq == 1 and record.deadline == deadline and record.actor == "kim"


def test_assign_records_assignee_and_refuses_the_same_one_twice() -> None:
    command = AssignInput(actor="kim", reason="region", assignee="lee")
    state, _ = apply_action(warned(), OfficerAction.ASSIGN, command, NOW)

    assert state.assigned_to == "lee"
    assert "already assigned" in str(reject_action(state, OfficerAction.ASSIGN, command, NOW))


def test_assignee_cannot_be_an_email_address() -> None:
    with pytest.raises(ValueError):
        AssignInput(actor="kim", reason="region", assignee="lee@example.com")


def test_blank_note_is_rejected() -> None:
    command = AddNoteInput(actor="kim", reason="call", text="   ")

    assert reject_action(warned(), OfficerAction.ADD_NOTE, command, NOW) == "a note needs text"
