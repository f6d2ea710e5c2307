"""A long case continues as new without losing an alert."""

import asyncio

from temporalio.api.enums.v1 import EventType as HistoryEvent

from domain.alerts import Alert, Severity
from domain.audit_events import EventType
from domain.officer import DismissInput, OfficerAction, OfficerActionResult
from tests.workflows.conftest import CaseHarness
from workflows.key_case import RUN_EVENT_BUDGET

ALERTS = RUN_EVENT_BUDGET + 100  # one signal event each: the run outgrows its budget


async def test_a_run_continues_as_new_in_a_turn_that_writes_nothing(harness: CaseHarness) -> None:
    """Like an ending, continuing as new comes in a turn of its own (see `_last_turn`).

    In a turn that ran a local activity, a query can split the turn and an alert that
    arrives then is lost when the run continues as new: so that turn must never be the last.
    """
    harness.patience = 120
    key_id = harness.new_key()
    alerts = [harness.make_alert(key_id, Severity.LOW) for _ in range(ALERTS)]
    handle = await harness.send(alerts[0])
    first_run = (await handle.describe()).run_id

    async def deliver(batch: list[Alert]) -> None:
        for alert in batch:
            await harness.send(alert)

    await asyncio.gather(*(deliver(alerts[1 + i :: 10]) for i in range(10)))
    await harness.until(handle, lambda s: s.runs > 1 and s.alerts.count == ALERTS)
    await handle.execute_update(
        OfficerAction.DISMISS.value,
        DismissInput(actor="kim", reason="load test"),
        result_type=OfficerActionResult,
    )
    final = await handle.result()  # the latest run's
    first = harness.env.client.get_workflow_handle(handle.id, run_id=first_run)
    events = [e.event_type for e in (await first.fetch_history()).events]

    last_turn = (
        len(events) - 1 - events[::-1].index(HistoryEvent.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    )
    assert events[-1] == HistoryEvent.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert HistoryEvent.EVENT_TYPE_MARKER_RECORDED not in events[last_turn:]
    assert final.alerts.count == ALERTS
    assert len(harness.store.of_type(EventType.ALERT_RECEIVED)) == ALERTS
