"""Finding the workflow run that holds a case, given only its case id.

A case id is `<key_id>.<run id>`: the key's workflow id plus the run that opened the
case. Every run that holds the case shows its id as the `CaseId` search attribute (a
long case continues as new and keeps it). The key's latest run usually holds it; an
older, ended case lives in the last run that showed its id, found through visibility.
Once Temporal's retention has deleted that run the case reads as 404; its audit rows
(`GET /v1/cases/{case_id}/audit`) outlive it, as the audit log is the record of truth.
"""

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import Path
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.visibility import held_case
from domain.case import CaseState, QueryName
from domain.ids import case_workflow_id, key_id_of_case
from domain.search_attributes import CASE_ID

CaseIdPath = Annotated[str, Path(max_length=240, description="`<key_id>.<run id>`")]
QUERY_TIMEOUT = timedelta(seconds=10)
OPENING_PAUSES = (0.1, 0.2, 0.4, 0.8, 1.5)


class CaseRun:
    """The run holding a case and whether that run is still going."""

    def __init__(self, handle: WorkflowHandle[object, object], running: bool) -> None:
        self.handle = handle
        self.running = running


def parse_case_id(case_id: str) -> str:
    """The key id; a malformed case id is a case that does not exist (404)."""
    try:
        return key_id_of_case(case_id)
    except ValueError:
        raise unknown_case(case_id) from None


def unknown_case(case_id: str) -> ApiError:
    return ApiError(404, "unknown_case", f"no case {case_id!r}")


async def find_case_run(client: Client, case_id: str) -> CaseRun:
    """The run holding the case; raises a 404 ApiError when Temporal knows no such case."""
    workflow_id = case_workflow_id(parse_case_id(case_id))
    try:
        run = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise unknown_case(case_id) from None
        raise
    if held_case(run) != case_id:
        # The ids are pattern-checked (parse_case_id), so quoting them is safe.
        query = f'WorkflowId="{workflow_id}" AND {CASE_ID.name}="{case_id}"'
        runs = [execution async for execution in client.list_workflows(query)]
        if not runs:
            raise unknown_case(case_id)
        last = max(runs, key=lambda execution: execution.start_time)
        run = await client.get_workflow_handle(workflow_id, run_id=last.run_id).describe()
    handle = client.get_workflow_handle(workflow_id, run_id=run.run_id)
    return CaseRun(handle, run.status == WorkflowExecutionStatus.RUNNING)


async def read_case(client: Client, case_id: str) -> CaseState:
    """The case's state from its workflow's `case` query."""
    run = await find_case_run(client, case_id)
    for pause in OPENING_PAUSES:
        try:
            state: CaseState = await run.handle.query(
                QueryName.CASE, result_type=CaseState, rpc_timeout=QUERY_TIMEOUT
            )
        except WorkflowQueryFailedError as error:
            # A case answers once its first turn has loaded the policy: moments after
            # the alert that opened it. Waiting briefly spares the caller a retry.
            failure = error.message
            await asyncio.sleep(pause)
            continue
        if state.case_id != case_id:
            raise unknown_case(case_id)
        return state
    raise ApiError(503, "case_unreadable", f"case {case_id} cannot be read now: {failure}")


async def open_case_run(client: Client, case_id: str) -> CaseRun:
    """The running run of an open case; 404 when unknown, 409 when it has closed."""
    run = await find_case_run(client, case_id)
    if not run.running:
        raise ApiError(409, "case_closed", f"case {case_id} is closed and takes no more input")
    return run
