"""Officer actions as workflow updates: checked against the case, applied by its loop.

Each update is validated before it is accepted (so a senseless action never reaches
history), then queued for the case's single loop, which applies it between effects and
answers with what it did. On a serious case a dismiss or expire_now waits for a second
officer's `approve` or `reject_pending` (`domain.four_eyes`); the validators refuse an
officer's verdict on their own request.
"""

from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.actions import reject_action
    from domain.case import CaseState
    from domain.officer import (
        AddNoteInput,
        ApproveInput,
        AssignInput,
        ConfirmInput,
        DismissInput,
        ExpireNowInput,
        ExtendKycDeadlineInput,
        OfficerAction,
        OfficerActionResult,
        OfficerInput,
        RejectPendingInput,
        UpdateName,
    )


@dataclass
class OfficerCommand:
    """An accepted officer action waiting for the loop, and its answer."""

    action: OfficerAction
    command: OfficerInput
    result: OfficerActionResult | None = None
    error: str | None = None
    done: bool = False


class OfficerDesk:
    """The update handlers of a case workflow; the workflow drains `_commands`."""

    _state: CaseState | None

    def __init__(self) -> None:
        self._commands: list[OfficerCommand] = []

    async def _officer(self, action: OfficerAction, command: OfficerInput) -> OfficerActionResult:
        queued = OfficerCommand(action, command)
        self._commands.append(queued)
        await workflow.wait_condition(lambda: queued.done)
        if queued.error or queued.result is None:
            raise ApplicationError(queued.error or "not applied", type="ActionRejected")
        return queued.result

    def _check(self, action: OfficerAction, command: OfficerInput) -> None:
        if self._state is None:
            raise ValueError("the case is still opening; try again in a moment")
        reason = reject_action(self._state, action, command, workflow.now())
        if reason:
            raise ValueError(reason)

    @workflow.update(name=UpdateName.CONFIRM)
    async def confirm(self, command: ConfirmInput) -> OfficerActionResult:
        """Escalate a monitored case to a warning."""
        return await self._officer(OfficerAction.CONFIRM, command)

    @confirm.validator
    def _check_confirm(self, command: ConfirmInput) -> None:
        self._check(OfficerAction.CONFIRM, command)

    @workflow.update(name=UpdateName.DISMISS)
    async def dismiss(self, command: DismissInput) -> OfficerActionResult:
        """Close the case as a false positive."""
        return await self._officer(OfficerAction.DISMISS, command)

    @dismiss.validator
    def _check_dismiss(self, command: DismissInput) -> None:
        self._check(OfficerAction.DISMISS, command)

    @workflow.update(name=UpdateName.EXPIRE_NOW)
    async def expire_now(self, command: ExpireNowInput) -> OfficerActionResult:
        """Expire the key at once."""
        return await self._officer(OfficerAction.EXPIRE_NOW, command)

    @expire_now.validator
    def _check_expire_now(self, command: ExpireNowInput) -> None:
        self._check(OfficerAction.EXPIRE_NOW, command)

    @workflow.update(name=UpdateName.EXTEND_KYC_DEADLINE)
    async def extend_kyc_deadline(self, command: ExtendKycDeadlineInput) -> OfficerActionResult:
        """Move the KYC deadline later."""
        return await self._officer(OfficerAction.EXTEND_KYC_DEADLINE, command)

    @extend_kyc_deadline.validator
    def _check_extend_kyc_deadline(self, command: ExtendKycDeadlineInput) -> None:
        self._check(OfficerAction.EXTEND_KYC_DEADLINE, command)

    @workflow.update(name=UpdateName.ASSIGN)
    async def assign(self, command: AssignInput) -> OfficerActionResult:
        """Give the case to an officer."""
        return await self._officer(OfficerAction.ASSIGN, command)

    @assign.validator
    def _check_assign(self, command: AssignInput) -> None:
        self._check(OfficerAction.ASSIGN, command)

    @workflow.update(name=UpdateName.ADD_NOTE)
    async def add_note(self, command: AddNoteInput) -> OfficerActionResult:
        """Add a note to the case."""
        return await self._officer(OfficerAction.ADD_NOTE, command)

    @add_note.validator
    def _check_add_note(self, command: AddNoteInput) -> None:
        self._check(OfficerAction.ADD_NOTE, command)

    @workflow.update(name=UpdateName.APPROVE)
    async def approve(self, command: ApproveInput) -> OfficerActionResult:
        """A second officer approves the dismiss or expire_now waiting for approval."""
        return await self._officer(OfficerAction.APPROVE, command)

    @approve.validator
    def _check_approve(self, command: ApproveInput) -> None:
        self._check(OfficerAction.APPROVE, command)

    @workflow.update(name=UpdateName.REJECT_PENDING)
    async def reject_pending(self, command: RejectPendingInput) -> OfficerActionResult:
        """A second officer rejects the dismiss or expire_now waiting for approval."""
        return await self._officer(OfficerAction.REJECT_PENDING, command)

    @reject_pending.validator
    def _check_reject_pending(self, command: RejectPendingInput) -> None:
        self._check(OfficerAction.REJECT_PENDING, command)
