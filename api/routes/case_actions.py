"""Input to a running case: the KYC provider's verdict and officers' actions.

The token's name is the actor; bodies carry only the reason and the action's details.
Whether an action makes sense now is the workflow's update validator's call; its
refusal comes back as 409 with the validator's message. A dismiss or expire-now that
must wait for a second officer (four eyes) answers 202 with the pending request; another
officer then approves or rejects it (`approve`, `reject-pending`).
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Response
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.case_runs import open_case_run
from api.deps import Kyc, Officer, TemporalClient
from api.errors import ApiError
from api.schemas import ActionIn, AssignIn, ExtendDeadlineIn, KycAccepted, KycIn, NoteIn
from api.scope import ScopedCaseId
from domain.messages import KycResult, SignalName
from domain.officer import (
    AddNoteInput,
    ApproveInput,
    AssignInput,
    ConfirmInput,
    DismissInput,
    ExpireNowInput,
    ExtendKycDeadlineInput,
    OfficerActionResult,
    OfficerInput,
    RejectPendingInput,
    UpdateName,
)

T = TypeVar("T")

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["case input"])
WAITS_FOR_APPROVAL: dict[int | str, dict[str, Any]] = {
    202: {"model": OfficerActionResult, "description": "waiting for a second officer"}
}


@router.post("/kyc", status_code=202, response_model=KycAccepted)
async def kyc_result(
    case_id: ScopedCaseId, body: KycIn, caller: Kyc, client: TemporalClient
) -> KycAccepted:
    """Deliver the re-verification result; the case moves on asynchronously."""
    result = KycResult(
        passed=body.passed,
        reference=body.reference,
        actor=caller.name,
        received_at=datetime.now(UTC),
    )
    await _to_case(client, case_id, lambda run: run.signal(SignalName.KYC_RESULT, result))
    return KycAccepted(case_id=case_id, passed=body.passed, reference=body.reference)


@router.post("/actions/confirm", response_model=OfficerActionResult)
async def confirm(
    case_id: ScopedCaseId, body: ActionIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Escalate a monitored case to a warning now."""
    command = ConfirmInput(actor=caller.name, reason=body.reason)
    return await act_on_case(client, case_id, UpdateName.CONFIRM, command)


@router.post("/actions/dismiss", response_model=OfficerActionResult, responses=WAITS_FOR_APPROVAL)
async def dismiss(
    case_id: ScopedCaseId,
    body: ActionIn,
    caller: Officer,
    client: TemporalClient,
    response: Response,
) -> OfficerActionResult:
    """Close the case as a false positive; on a serious case, once a second officer approves."""
    command = DismissInput(actor=caller.name, reason=body.reason)
    return _waits(response, await act_on_case(client, case_id, UpdateName.DISMISS, command))


@router.post(
    "/actions/expire-now", response_model=OfficerActionResult, responses=WAITS_FOR_APPROVAL
)
async def expire_now(
    case_id: ScopedCaseId,
    body: ActionIn,
    caller: Officer,
    client: TemporalClient,
    response: Response,
) -> OfficerActionResult:
    """Expire the key at once (irreversible); on a serious case, once a second officer approves."""
    command = ExpireNowInput(actor=caller.name, reason=body.reason)
    return _waits(response, await act_on_case(client, case_id, UpdateName.EXPIRE_NOW, command))


@router.post("/actions/approve", response_model=OfficerActionResult)
async def approve(
    case_id: ScopedCaseId, body: ActionIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Approve another officer's dismiss or expire-now waiting for approval; it applies now."""
    command = ApproveInput(actor=caller.name, reason=body.reason)
    return await act_on_case(client, case_id, UpdateName.APPROVE, command)


@router.post("/actions/reject-pending", response_model=OfficerActionResult)
async def reject_pending(
    case_id: ScopedCaseId, body: ActionIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Reject another officer's dismiss or expire-now waiting for approval; the case goes on."""
    command = RejectPendingInput(actor=caller.name, reason=body.reason)
    return await act_on_case(client, case_id, UpdateName.REJECT_PENDING, command)


def _waits(response: Response, result: OfficerActionResult) -> OfficerActionResult:
    if result.pending_approval is not None:
        response.status_code = 202
    return result


@router.post("/actions/extend-kyc-deadline", response_model=OfficerActionResult)
async def extend_kyc_deadline(
    case_id: ScopedCaseId, body: ExtendDeadlineIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Move the KYC deadline later, within the policy's maximum."""
    command = ExtendKycDeadlineInput(actor=caller.name, reason=body.reason, deadline=body.deadline)
    return await act_on_case(client, case_id, UpdateName.EXTEND_KYC_DEADLINE, command)


@router.post("/actions/assign", response_model=OfficerActionResult)
async def assign(
    case_id: ScopedCaseId, body: AssignIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Give the case to an officer."""
    command = AssignInput(actor=caller.name, reason=body.reason, assignee=body.assignee)
    return await act_on_case(client, case_id, UpdateName.ASSIGN, command)


@router.post("/actions/note", response_model=OfficerActionResult)
async def note(
    case_id: ScopedCaseId, body: NoteIn, caller: Officer, client: TemporalClient
) -> OfficerActionResult:
    """Add a note to the case's record."""
    command = AddNoteInput(actor=caller.name, reason=body.reason, text=body.text)
    return await act_on_case(client, case_id, UpdateName.ADD_NOTE, command)


async def act_on_case(
    client: Client, case_id: str, update: str, command: OfficerInput, update_id: str | None = None
) -> OfficerActionResult:
    """The officer's action as the case's own update; ApiError 404 or 409 when it cannot be.

    With `update_id` a repeat (a retried fan-out from a ring) gets the first answer back."""
    try:
        return await _to_case(
            client,
            case_id,
            lambda run: run.execute_update(
                update, command, id=update_id, result_type=OfficerActionResult
            ),
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise ApiError(409, "action_rejected", message) from None


async def _to_case(
    client: Client, case_id: str, send: Callable[[WorkflowHandle[Any, Any]], Awaitable[T]]
) -> T:
    """Send to the run found to hold the case, never to a later run of the key.

    An action must not land on the key's next case. Should the run end between finding
    it and reaching it, the case is looked up once more: it has closed (409), or a long
    case has gone on in a new run.
    """
    for _ in range(2):
        run = await open_case_run(client, case_id)
        try:
            return await send(run.handle)
        except RPCError as error:
            if error.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise
    raise ApiError(409, "case_closed", f"case {case_id} closed meanwhile")
