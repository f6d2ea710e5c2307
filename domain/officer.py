"""Officer actions on a case: update names, their inputs and their result.

Every input carries the officer (`actor`, the API token's name) and a `reason`. The
models only bound sizes; whether an action makes sense for the case right now (open
case, deadline in range, reason given) is decided by `domain.stage_rules.reject_action`,
which the workflow's update validators call before anything reaches history.
"""

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.stages import CaseStage

Actor = Annotated[str, Field(min_length=1, max_length=64)]
Reason = Annotated[str, Field(max_length=500)]
# Officer ids go into the AssignedTo search attribute: no '@', so no e-mail addresses.
OfficerId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class OfficerAction(StrEnum):
    """The update names of the case workflow (also the `action` of an ActionRecord)."""

    CONFIRM = "confirm"
    DISMISS = "dismiss"
    EXPIRE_NOW = "expire_now"
    EXTEND_KYC_DEADLINE = "extend_kyc_deadline"
    ASSIGN = "assign"
    ADD_NOTE = "add_note"
    APPROVE = "approve"  # a second officer approves the pending dismiss or expire_now
    REJECT_PENDING = "reject_pending"  # ... or rejects it


# Irreversible decisions: on a case of a severity the policy's [four_eyes] table names,
# the first officer's request waits for a second officer (`domain.four_eyes`).
FOUR_EYES_ACTIONS = frozenset({OfficerAction.DISMISS, OfficerAction.EXPIRE_NOW})


class UpdateName:
    CONFIRM = OfficerAction.CONFIRM.value
    DISMISS = OfficerAction.DISMISS.value
    EXPIRE_NOW = OfficerAction.EXPIRE_NOW.value
    EXTEND_KYC_DEADLINE = OfficerAction.EXTEND_KYC_DEADLINE.value
    ASSIGN = OfficerAction.ASSIGN.value
    ADD_NOTE = OfficerAction.ADD_NOTE.value
    APPROVE = OfficerAction.APPROVE.value
    REJECT_PENDING = OfficerAction.REJECT_PENDING.value


class OfficerInput(BaseModel):
    """What every officer action carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: Actor
    reason: Reason
    # Set when the action came to this case from its ring (domain.rings): one action, fanned out.
    ring_id: str | None = Field(default=None, pattern=r"^ring-[0-9a-f]{20}$")


class ConfirmInput(OfficerInput):
    """Escalate a monitored case to a warning now."""


class DismissInput(OfficerInput):
    """Close the case as a false positive; the key's flag is lifted."""


class ExpireNowInput(OfficerInput):
    """Expire the key at once (irreversible)."""


class ExtendKycDeadlineInput(OfficerInput):
    """Move the KYC deadline later, within the policy's maximum."""

    deadline: AwareDatetime


class AssignInput(OfficerInput):
    """Give the case to an officer."""

    assignee: OfficerId


class AddNoteInput(OfficerInput):
    """Add a note to the case's record."""

    text: str = Field(max_length=2000)


class ApproveInput(OfficerInput):
    """A second officer approves the action waiting for approval; it is applied at once."""


class RejectPendingInput(OfficerInput):
    """A second officer rejects the action waiting for approval; the case goes on."""


OFFICER_INPUTS: dict[OfficerAction, type[OfficerInput]] = {
    OfficerAction.CONFIRM: ConfirmInput,
    OfficerAction.DISMISS: DismissInput,
    OfficerAction.EXPIRE_NOW: ExpireNowInput,
    OfficerAction.EXTEND_KYC_DEADLINE: ExtendKycDeadlineInput,
    OfficerAction.ASSIGN: AssignInput,
    OfficerAction.ADD_NOTE: AddNoteInput,
    OfficerAction.APPROVE: ApproveInput,
    OfficerAction.REJECT_PENDING: RejectPendingInput,
}


class PendingApproval(BaseModel):
    """An irreversible action one officer asked for, waiting for a second officer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int  # 1, 2, ... within the case; part of its audit event ids
    action: OfficerAction
    requested_by: str
    reason: str
    requested_at: AwareDatetime
    lapses_at: AwareDatetime


class OfficerActionResult(BaseModel):
    """What an accepted action did to the case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    action: OfficerAction
    seq: int
    stage: CaseStage
    kyc_deadline: AwareDatetime | None = None
    assigned_to: str | None = None
    # Set when the action now waits for a second officer instead of being applied.
    pending_approval: PendingApproval | None = None
