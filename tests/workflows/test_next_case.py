"""Alerts that reach a case after it has ended, while its run still finishes its work."""

from temporalio.api.enums.v1 import EventType as HistoryEvent
from temporalio.client import WorkflowExecutionStatus

from domain import search_attributes
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.case import CaseState
from domain.ids import case_id_for
from domain.notices import NoticeKind
from domain.officer import (
    DismissInput,
    ExpireNowInput,
    OfficerAction,
    OfficerActionResult,
    OfficerInput,
)
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, Handle


async def _ended_with_warning_in_flight(
    harness: CaseHarness, action: OfficerAction, command: OfficerInput
) -> tuple[Handle, CaseState]:
    """A case that an officer ended while its warning was still being sent."""
    harness.notices.held.add(NoticeKind.WARNING)
    handle = await harness.open(Severity.HIGH)
    await harness.until(handle, lambda s: s.stage is CaseStage.WARNED)
    await handle.execute_update(action.value, command, result_type=OfficerActionResult)
    ended = await harness.until(handle, lambda s: not s.stage.is_open)
    return handle, ended


async def test_an_alert_reaching_a_dismissed_case_before_its_run_ends_opens_the_next_case(
    harness: CaseHarness,
) -> None:
    handle, first = await _ended_with_warning_in_flight(
        harness, OfficerAction.DISMISS, DismissInput(actor="kim", reason="known market maker")
    )
    late = harness.make_alert(first.key_id, Severity.LOW)
    took_it = await harness.send(late)
    harness.notices.release.set()

    client = harness.env.client
    ended_run = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    next_run = client.get_workflow_handle(handle.id)
    nxt = await harness.until(next_run, lambda s: s.case_id != first.case_id)
    described = await next_run.describe()

    assert took_it.result_run_id == handle.result_run_id  # the ending run took the signal
    assert (await ended_run.describe()).status is WorkflowExecutionStatus.CONTINUED_AS_NEW

    assert nxt.case_id == case_id_for(first.key_id, described.run_id) != first.case_id
    assert nxt.stage is CaseStage.MONITORING
    assert nxt.alerts.recent_ids == [late.alert_id]
    assert described.typed_search_attributes.get(search_attributes.CASE_ID) == nxt.case_id

    [passed_on] = harness.store.of_type(EventType.ALERT_PASSED_ON)
    assert (passed_on.case_id, passed_on.payload["alert_id"]) == (first.case_id, late.alert_id)
    received = {
        f.payload["alert_id"]: f.case_id for f in harness.store.of_type(EventType.ALERT_RECEIVED)
    }
    assert received[late.alert_id] == nxt.case_id
    opened = {f.case_id for f in harness.store.of_type(EventType.CASE_OPENED)}
    assert opened == {first.case_id, nxt.case_id}


async def test_a_repeat_of_the_ended_cases_alert_opens_no_next_case(
    harness: CaseHarness,
) -> None:
    handle, first = await _ended_with_warning_in_flight(
        harness, OfficerAction.DISMISS, DismissInput(actor="kim", reason="known market maker")
    )
    [alert_id] = first.alerts.recent_ids
    await harness.send(harness.make_alert(first.key_id, alert_id=alert_id))
    harness.notices.release.set()
    final = await handle.result()

    assert final.case_id == first.case_id  # the run ended without opening another case
    assert final.stage is CaseStage.DISMISSED
    assert final.alerts.duplicates == 1
    assert harness.store.of_type(EventType.ALERT_PASSED_ON) == []


async def test_an_alert_reaching_an_expired_case_stays_on_it(harness: CaseHarness) -> None:
    handle, first = await _ended_with_warning_in_flight(
        harness, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="kim", reason="lent to a bot")
    )
    late = harness.make_alert(first.key_id, Severity.LOW)
    await harness.send(late)
    harness.notices.release.set()
    final = await handle.result()

    assert final.case_id == first.case_id  # nothing more can happen to an expired key
    assert final.stage is CaseStage.EXPIRED
    assert final.alerts.recent_ids[-1] == late.alert_id
    assert harness.store.of_type(EventType.ALERT_PASSED_ON) == []


async def test_a_case_ends_in_a_turn_that_writes_nothing(harness: CaseHarness) -> None:
    """The turn that ends the run runs no local activity (see KeyCaseWorkflow._last_turn)."""
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)
    await handle.execute_update(
        OfficerAction.DISMISS.value,
        DismissInput(actor="kim", reason="known market maker"),
        result_type=OfficerActionResult,
    )
    await handle.result()

    events = [e.event_type for e in (await handle.fetch_history()).events]
    last_turn = (
        len(events) - 1 - events[::-1].index(HistoryEvent.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    )
    assert events[-1] == HistoryEvent.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
    assert HistoryEvent.EVENT_TYPE_MARKER_RECORDED not in events[last_turn:]
    assert HistoryEvent.EVENT_TYPE_MARKER_RECORDED in events[:last_turn]  # the unflag ran before
