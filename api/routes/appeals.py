"""Appeals of an expiry: filed for the owner (officer, support), decided by an officer.

Filing reads the expired case and starts its AppealWorkflow (`appeal-<case_id>`), so a
second appeal of the same case is refused by Temporal itself; the window after the
expiry is the policy's `[appeals]` table. Decisions are the workflow's update, validated
there; a refusal answers 409 saying why.
"""

from datetime import UTC, datetime

from fastapi import APIRouter
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Role
from api.case_runs import read_case, unknown_case
from api.deps import (
    AppealFiler,
    AppealReader,
    AppealsLimits,
    AppSettings,
    Officer,
    StoreDep,
    TemporalClient,
)
from api.errors import ApiError
from api.schemas import ActionIn, AppealIn
from api.scope import ScopedCaseId
from domain.appeal_cases import ended_case_from_audit
from domain.appeals import (
    AppealDecision,
    AppealInput,
    AppealRecord,
    AppealState,
    EndedCase,
    UpdateName,
    appeal_refusal,
    ended_case,
)
from domain.ids import APPEAL_WORKFLOW_TYPE, appeal_workflow_id
from store.appeals import get_appeal
from store.audit import audit_rows
from store.port import Store

router = APIRouter(prefix="/v1/cases/{case_id}/appeal", tags=["appeals"])


@router.post("", status_code=201, response_model=AppealState)
async def file_appeal(
    case_id: ScopedCaseId,
    body: AppealIn,
    caller: AppealFiler,
    client: TemporalClient,
    store: StoreDep,
    settings: AppSettings,
    policy: AppealsLimits,
) -> AppealState:
    """Open an officer review of the case's expiry, with the owner's statement."""
    case = await _ended_case(client, store, case_id)
    now = datetime.now(UTC)
    refusal = appeal_refusal(case, now, policy)
    expiry = case.expired_at
    if refusal is not None or expiry is None:
        raise ApiError(409, "appeal_refused", refusal or "not expired")
    if await store.read(lambda c: get_appeal(c, case_id)) is not None:
        raise _appealed(case_id)
    filing = AppealInput(
        case_id=case_id,
        key_id=case.key_id,
        account_id=case.account_id,
        exchange=case.exchange,
        severity=case.severity,
        detected=case.detected,
        expired_at=expiry,
        statement=body.statement,
        filed_by=caller.name,
        filed_at=now,
        replacement_cooldown=policy.replacement_cooldown,
    )
    try:
        await client.start_workflow(
            APPEAL_WORKFLOW_TYPE,
            filing,
            id=appeal_workflow_id(case_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"Appeal of the expiry in case `{case_id}` on {case.exchange}",
        )
    except WorkflowAlreadyStartedError:
        raise _appealed(case_id) from None
    return AppealState(case_id=case_id, key_id=case.key_id, filed_by=caller.name, filed_at=now)


async def _ended_case(client: Client, store: Store, case_id: str) -> EndedCase:
    """The case from its workflow; from its audit rows once retention removed the runs."""
    try:
        return ended_case(await read_case(client, case_id))
    except ApiError as error:
        if error.status_code != 404:
            raise
    rows = await store.read(lambda c: audit_rows(c, case_id=case_id))
    found = ended_case_from_audit(case_id, rows)
    if found is None:
        raise unknown_case(case_id)
    return found


@router.get("", response_model=AppealRecord)
async def get_case_appeal(
    case_id: ScopedCaseId, caller: AppealReader, store: StoreDep
) -> AppealRecord:
    """The appeal and its decision; auditors see the statement's digest in the audit log only."""
    record = await store.read(lambda c: get_appeal(c, case_id))
    if record is None:
        raise _no_appeal(case_id)
    if caller.role is Role.AUDITOR:
        return record.model_copy(update={"statement": None})
    return record


@router.post("/uphold", response_model=AppealState)
async def uphold(
    case_id: ScopedCaseId, body: ActionIn, caller: Officer, client: TemporalClient, store: StoreDep
) -> AppealState:
    """Uphold the appeal: a replacement key may be registered after the cool-down."""
    decision = AppealDecision(upheld=True, actor=caller.name, reason=body.reason)
    return await _decide(client, store, case_id, decision)


@router.post("/reject", response_model=AppealState)
async def reject(
    case_id: ScopedCaseId, body: ActionIn, caller: Officer, client: TemporalClient, store: StoreDep
) -> AppealState:
    """Reject the appeal, for good: no replacement key."""
    decision = AppealDecision(upheld=False, actor=caller.name, reason=body.reason)
    return await _decide(client, store, case_id, decision)


async def _decide(
    client: Client, store: Store, case_id: str, decision: AppealDecision
) -> AppealState:
    handle = client.get_workflow_handle(appeal_workflow_id(case_id))
    try:
        state: AppealState = await handle.execute_update(
            UpdateName.DECIDE, decision, result_type=AppealState
        )
        return state
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise ApiError(409, "action_rejected", message) from None
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
    # No such workflow, or it has finished: the store says which.
    record = await store.read(lambda c: get_appeal(c, case_id))
    if record is None:
        raise _no_appeal(case_id)
    raise ApiError(
        409,
        "action_rejected",
        f"the appeal of case {case_id} was already {record.status.value} by "
        f"{record.decided_by}: a decision is final",
    )


def _appealed(case_id: str) -> ApiError:
    return ApiError(409, "appeal_exists", f"case {case_id} has been appealed already")


def _no_appeal(case_id: str) -> ApiError:
    return ApiError(404, "no_appeal", f"case {case_id} has no appeal")
