"""A case never cancels a timer that may already have fired.

A timer can fire on the server while the worker is still busy with a task; the worker
learns of it only in its next task. Cancelling such a timer is a command the time-skipping
test server refuses without failing the task, so the run never gets another task: the
case wedges, and every later test that waits for time to skip waits in real time (the
workflow tests "hung" about once in ten runs). Here a signal handler is made slow, so the
ending case's 50 ms last-turn timer fires while the late alert's task is running.
"""

import asyncio

from temporalio.client import WorkflowExecution, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.alerts import Severity
from domain.audit_events import EventType
from domain.officer import DismissInput, OfficerAction, OfficerActionResult
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, end_cases
from tests.workflows.slow_signals import SLOW, SLOW_SIGNAL_SECONDS, slow_harness, slow_worker
from workflows.key_case import LAST_TURN_WAIT


async def test_a_late_alert_in_a_slow_task_during_the_last_turn_still_opens_the_next_case(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    harness = slow_harness(time_skipping_env)
    async with slow_worker(harness):
        try:
            handle = await harness.open(Severity.HIGH)
            first = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
            first_run = (await handle.describe()).run_id
            await handle.execute_update(
                OfficerAction.DISMISS.value,
                DismissInput(actor="kim", reason="known market maker"),
                result_type=OfficerActionResult,
            )
            SLOW.enabled = True  # the ending run now waits LAST_TURN_WAIT for late messages
            late = harness.make_alert(first.key_id, Severity.LOW)
            await harness.send(late)
            nxt = await _next_run(harness, handle.id, first_run)
        finally:
            SLOW.enabled = False
            await end_cases(harness)

    assert LAST_TURN_WAIT.total_seconds() < SLOW_SIGNAL_SECONDS
    assert nxt.status is WorkflowExecutionStatus.RUNNING  # the key's next case
    [passed_on] = harness.store.of_type(EventType.ALERT_PASSED_ON)
    assert (passed_on.case_id, passed_on.payload["alert_id"]) == (first.case_id, late.alert_id)


async def _next_run(harness: CaseHarness, workflow_id: str, first_run: str) -> WorkflowExecution:
    """The key's workflow once a run after `first_run` has started (read from the server:
    a wedged run answers no query, but the server still describes it)."""
    async with asyncio.timeout(harness.patience):
        while True:
            run = await harness.env.client.get_workflow_handle(workflow_id).describe()
            if run.run_id != first_run:
                return run
            await asyncio.sleep(0.05)
