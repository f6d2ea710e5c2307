"""Listing cases through Temporal visibility (the same search attributes officers filter by)."""

from datetime import timedelta
from typing import TypeVar

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from api.cursors import Cursors
from api.schemas import CaseFilter, CasePage, CaseSummary
from domain.alerts import Severity
from domain.ids import APPEAL_WORKFLOW_TYPE, WORKFLOW_ID_PREFIX, WORKFLOW_TYPE, case_id_for
from domain.officer import OfficerAction
from domain.search_attributes import (
    ASSIGNED_TO,
    CASE_ID,
    CASE_STAGE,
    EXCHANGE,
    KEY_ID,
    KYC_DEADLINE,
    PENDING_APPROVAL,
    SEVERITY,
)
from domain.stages import CaseStage

_E = TypeVar("_E", CaseStage, Severity, OfficerAction)
LIST_TIMEOUT = timedelta(seconds=10)


def visibility_query(case_filter: CaseFilter, exchanges: frozenset[str] | None = None) -> str:
    """The list filter; values are enum members or pattern-checked ids, so quoting is safe.

    `exchanges` (a scoped caller's, pattern-checked when the tokens were parsed) limits
    the list to those exchanges' cases."""
    # A run that continued as new while its case was open is an old page of a case that
    # lives on in a newer run; one that continued with its case ended opened the next case.
    ended = ", ".join(f'"{stage.value}"' for stage in CaseStage if not stage.is_open)
    clauses = [
        f'WorkflowType="{WORKFLOW_TYPE}"',
        f'(ExecutionStatus!="ContinuedAsNew" OR {CASE_STAGE.name} IN ({ended}))',
    ]
    if case_filter.stage is not None and case_filter.stage.is_appeal:
        # Appeal stages are shown by the expired case's AppealWorkflow (one run, no chain).
        clauses = [f'WorkflowType="{APPEAL_WORKFLOW_TYPE}"']
    if case_filter.stage is not None:
        clauses.append(f'{CASE_STAGE.name}="{case_filter.stage.value}"')
    if case_filter.exchange is not None:
        clauses.append(f'{EXCHANGE.name}="{case_filter.exchange}"')
    if exchanges is not None:
        allowed = ", ".join(f'"{exchange}"' for exchange in sorted(exchanges))
        clauses.append(f"{EXCHANGE.name} IN ({allowed})")
    if case_filter.severity is not None:
        clauses.append(f'{SEVERITY.name}="{case_filter.severity.value}"')
    if case_filter.key_id is not None:
        clauses.append(f'{KEY_ID.name}="{case_filter.key_id}"')
    if case_filter.pending_approval is not None:
        clauses.append(
            f"{PENDING_APPROVAL.name} IS {'NOT ' if case_filter.pending_approval else ''}NULL"
        )
    return " AND ".join(clauses)


async def list_cases(
    client: Client,
    case_filter: CaseFilter,
    cursors: Cursors,
    exchanges: frozenset[str] | None = None,
) -> CasePage:
    """One page of cases matching the filter, newest first, with a cursor for the next."""
    token = cursors.read(case_filter.cursor) if case_filter.cursor is not None else None
    executions = client.list_workflows(
        visibility_query(case_filter, exchanges),
        page_size=case_filter.limit,
        next_page_token=token,
        rpc_timeout=LIST_TIMEOUT,
    )
    await executions.fetch_next_page()
    token = executions.next_page_token
    return CasePage(
        cases=[_summary(execution) for execution in executions.current_page or []],
        next_cursor=cursors.issue(token) if token else None,
    )


def held_case(execution: WorkflowExecution) -> str:
    """The id of the case a run of a key's workflow holds.

    A run shows it (`CaseId`) from its first turn on; before that, the run is one that
    has just opened its case, which is named after it.
    """
    shown = execution.typed_search_attributes.get(CASE_ID)
    return shown or case_id_for(execution.id.removeprefix(WORKFLOW_ID_PREFIX), execution.run_id)


def _summary(execution: WorkflowExecution) -> CaseSummary:
    attributes = execution.typed_search_attributes
    key_id = attributes.get(KEY_ID) or execution.id.removeprefix(WORKFLOW_ID_PREFIX)
    return CaseSummary(
        case_id=held_case(execution),
        key_id=key_id,
        exchange=attributes.get(EXCHANGE),
        stage=_enum(CaseStage, attributes.get(CASE_STAGE)),
        severity=_enum(Severity, attributes.get(SEVERITY)),
        kyc_deadline=attributes.get(KYC_DEADLINE),
        assigned_to=attributes.get(ASSIGNED_TO),
        pending_approval=_enum(OfficerAction, attributes.get(PENDING_APPROVAL)),
        running=execution.status == WorkflowExecutionStatus.RUNNING,
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


def _enum(kind: type[_E], value: str | None) -> _E | None:
    try:
        return kind(value) if value is not None else None
    except ValueError:
        return None  # written by a newer or older version: show the case without it
