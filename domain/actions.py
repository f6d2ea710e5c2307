"""Rules for officer actions: which make sense now, and what they record on the case."""

from datetime import datetime

from domain import four_eyes
from domain.case import MAX_ACTIONS_KEPT, ActionRecord, CaseState
from domain.officer import (
    AddNoteInput,
    AssignInput,
    ExtendKycDeadlineInput,
    OfficerAction,
    OfficerInput,
)
from domain.stage_rules import KYC_PENDING
from domain.stages import CaseStage


def reject_action(
    state: CaseState, action: OfficerAction, command: OfficerInput, now: datetime
) -> str | None:
    """Why `action` makes no sense for the case now, or None when it may go ahead."""
    if not command.reason.strip():
        return "a reason is required"
    if not state.stage.is_open:
        return f"the case is {state.stage.value} and takes no more actions"
    if action is OfficerAction.APPROVE:
        return four_eyes.reject_decision(state, command, "approve", now)
    if action is OfficerAction.REJECT_PENDING:
        return four_eyes.reject_decision(state, command, "reject", now)
    if pending := four_eyes.reject_request(state, action):
        return pending
    if action is OfficerAction.CONFIRM and state.stage is not CaseStage.MONITORING:
        return f"only a case in MONITORING can be confirmed; this one is {state.stage.value}"
    if isinstance(command, ExtendKycDeadlineInput):
        return _reject_extension(state, command.deadline, now)
    if isinstance(command, AssignInput) and command.assignee == state.assigned_to:
        return f"the case is already assigned to {command.assignee}"
    if isinstance(command, AddNoteInput) and not command.text.strip():
        return "a note needs text"
    return None


def _reject_extension(state: CaseState, deadline: datetime, now: datetime) -> str | None:
    if state.stage not in KYC_PENDING or state.kyc_deadline is None:
        return f"the case is {state.stage.value} and has no KYC deadline to extend"
    if deadline <= now:
        return "the new deadline is in the past"
    if deadline <= state.kyc_deadline:
        return f"the new deadline is not later than the current one ({state.kyc_deadline})"
    if state.kyc_deadline_max is not None and deadline > state.kyc_deadline_max:
        return f"the new deadline is beyond the policy's maximum ({state.kyc_deadline_max})"
    return None


def apply_action(
    state: CaseState,
    action: OfficerAction,
    command: OfficerInput,
    now: datetime,
    approved_by: str | None = None,
) -> tuple[CaseState, ActionRecord]:
    """Record an accepted action and its direct effect (deadline, assignee).

    Stage moves that need side effects (confirm, dismiss, expire now) are the
    workflow's next step; this only writes the action down.
    """
    record = ActionRecord(
        seq=state.action_count + 1,
        action=action,
        actor=command.actor,
        reason=command.reason.strip(),
        at=now,
        deadline=command.deadline if isinstance(command, ExtendKycDeadlineInput) else None,
        assignee=command.assignee if isinstance(command, AssignInput) else None,
        text=command.text if isinstance(command, AddNoteInput) else None,
        ring_id=command.ring_id,
        approved_by=approved_by,
    )
    update: dict[str, object] = {
        "action_count": record.seq,
        "actions": [*state.actions, record][-MAX_ACTIONS_KEPT:],
    }
    if isinstance(command, AssignInput):
        update["assigned_to"] = command.assignee
    if isinstance(command, ExtendKycDeadlineInput):
        update["kyc_deadline"] = command.deadline
        update["kyc_deadline_revision"] = state.kyc_deadline_revision + 1
        update["kyc_deadline_revised_at"] = now
    return state.model_copy(update=update), record
