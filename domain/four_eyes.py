"""Four eyes: an irreversible decision on a serious case needs a second officer.

On a case whose severity the policy's `[four_eyes]` table names, an officer's `dismiss`
or `expire_now` becomes a request that waits for a different officer to approve or
reject it, and lapses after the policy's window. Pure functions of the case: the
workflow's loop (`domain.case_reactions`) applies them and records each step.
"""

from datetime import datetime

from domain.case import CaseState
from domain.officer import FOUR_EYES_ACTIONS, OfficerAction, OfficerInput, PendingApproval
from domain.policy import LadderPolicy


def needs_second_officer(state: CaseState, action: OfficerAction, policy: LadderPolicy) -> bool:
    """Whether this action on this case waits for a second officer."""
    return action in FOUR_EYES_ACTIONS and policy.four_eyes.applies_to(state.severity)


def request(
    state: CaseState,
    action: OfficerAction,
    command: OfficerInput,
    policy: LadderPolicy,
    now: datetime,
) -> CaseState:
    """The case with `action` waiting for approval until the policy's window ends."""
    pending = PendingApproval(
        number=state.approvals_requested + 1,
        action=action,
        requested_by=command.actor,
        reason=command.reason.strip(),
        requested_at=now,
        lapses_at=now + policy.four_eyes.window,
    )
    return state.model_copy(
        update={"pending_approval": pending, "approvals_requested": pending.number}
    )


def reject_decision(
    state: CaseState, command: OfficerInput, verb: str, now: datetime
) -> str | None:
    """Why this officer may not `verb` (approve, reject) what is pending, or None."""
    pending = state.pending_approval
    if pending is None:
        return "no action is waiting for a second officer's approval"
    if command.actor == pending.requested_by:
        return (
            f"{pending.requested_by} asked for {pending.action.value} and cannot {verb} it:"
            " a second officer must"
        )
    if now >= pending.lapses_at:
        return f"the {pending.action.value} request lapsed at {pending.lapses_at.isoformat()}"
    return None


def reject_request(state: CaseState, action: OfficerAction) -> str | None:
    """Why a new dismiss or expire_now cannot be asked for now: one is already pending."""
    pending = state.pending_approval
    if pending is None or action not in FOUR_EYES_ACTIONS:
        return None
    return (
        f"{pending.action.value} asked by {pending.requested_by} is waiting for a second"
        " officer: approve or reject it first"
    )


def lapse_reason(state: CaseState, now: datetime) -> str | None:
    """Why the pending request lapses now (its window ended, the case ended), or None."""
    pending = state.pending_approval
    if pending is None:
        return None
    if not state.stage.is_open:
        return f"the case ended as {state.stage.value}"
    if now >= pending.lapses_at:
        return "no second officer decided within the policy's window"
    return None


def settle(state: CaseState) -> CaseState:
    """The case with nothing pending any more (approved, rejected or lapsed)."""
    return state.model_copy(update={"pending_approval": None})
