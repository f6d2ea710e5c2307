"""Reading cases: the list from Temporal visibility, one case from its workflow's query."""

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal, Role
from api.case_runs import CaseIdPath, read_case
from api.deps import PageCursors, Reader, TemporalClient
from api.schemas import CaseFilter, CasePage
from api.visibility import list_cases
from domain.case import CaseState

router = APIRouter(prefix="/v1/cases", tags=["cases"])


@router.get("", response_model=CasePage)
async def get_cases(
    case_filter: Annotated[CaseFilter, Query()],
    caller: Reader,
    client: TemporalClient,
    cursors: PageCursors,
) -> CasePage:
    """Cases filtered by stage, exchange, severity or key, newest first."""
    return await list_cases(client, case_filter, cursors)


@router.get("/{case_id}", response_model=CaseState)
async def get_case(case_id: CaseIdPath, caller: Reader, client: TemporalClient) -> CaseState:
    """The case: stage, deadlines, alerts, notices, officer actions, KYC results."""
    state = await read_case(client, case_id)
    return for_role(state, caller)


def for_role(state: CaseState, caller: Principal) -> CaseState:
    """What `caller` may see: auditors get no provider texts, which can quote contacts."""
    if caller.role is not Role.AUDITOR:
        return state
    notices = [
        notice.model_copy(
            update={
                "error": None,
                "channels": [
                    channel.model_copy(update={"error": None, "provider_message_id": None})
                    for channel in notice.channels
                ],
            }
        )
        for notice in state.notices
    ]
    return state.model_copy(update={"notices": notices})
