"""Finding the workflow run that holds a case, given only its case id.

A case id is `<key_id>.<first run id>`: the key's workflow id plus the run that
opened the case. The key's latest run usually holds it; an older, closed case lives
in the run of its chain that did not continue as new, found through visibility.
Once Temporal's retention has deleted that run the case reads as 404; its audit rows
(`GET /v1/cases/{case_id}/audit`) outlive it, as the audit log is the record of truth.
"""

import asyncio
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from domain.case import CaseState, QueryName
from domain.ids import case_workflow_id, key_id_of_case

QUERY_TIMEOUT = timedelta(seconds=10)
OPENING_PAUSES = (0.1, 0.2, 0.4, 0.8, 1.5)


class CaseRun:
    """The run holding a case and whether that run is still going."""

    def __init__(self, handle: WorkflowHandle[object, object], running: bool) -> None:
        self.handle = handle
        self.running = running


def parse_case_id(case_id: str) -> tuple[str, str]:
    """(key id, first run id); a malformed id is a case that does not exist (404)."""
    try:
        key_id = key_id_of_case(case_id)
    except ValueError:
        raise unknown_case(case_id) from None
    return key_id, case_id.rpartition(".")[2]


def unknown_case(case_id: str) -> ApiError:
    return ApiError(404, "unknown_case", f"no case {case_id!r}")


async def find_case_run(client: Client, case_id: str) -> CaseRun:
    """The run holding the case; raises a 404 ApiError when Temporal knows no such case."""
    key_id, first_run = parse_case_id(case_id)
    workflow_id = case_workflow_id(key_id)
    try:
        latest = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise unknown_case(case_id) from None
        raise
    if first_run in (latest.raw_info.first_run_id, latest.run_id):
        handle = client.get_workflow_handle(workflow_id, run_id=latest.run_id)
        return CaseRun(handle, latest.status == WorkflowExecutionStatus.RUNNING)
    query = f'WorkflowId="{workflow_id}" AND ExecutionStatus!="ContinuedAsNew"'
    async for execution in client.list_workflows(query, page_size=100):
        handle = client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        if execution.run_id == first_run:
            return CaseRun(handle, running=False)
        if (await handle.describe()).raw_info.first_run_id == first_run:
            return CaseRun(handle, running=False)
    raise unknown_case(case_id)


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
