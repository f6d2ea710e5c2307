"""Messages from machines: repeated and flooding alerts, delivery reports, failing effects."""

import asyncio
from datetime import timedelta

from temporalio.api.enums.v1 import EventType as HistoryEvent
from temporalio.api.history.v1 import HistoryEvent as HistoryEventProto
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from domain.alerts import Alert, Severity
from domain.audit_events import EventType
from domain.messages import DeliveryEvent
from domain.notices import Channel, DeliveryStatus
from domain.officer import DismissInput, OfficerAction, OfficerActionResult
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, history_tail

FLOOD = 5000
REPEATS = 100
SERVER_HISTORY_WARNING = 10_240  # events (self-hosted default)
SERVER_PAYLOAD_WARNING = 256 * 1024  # bytes for one payload


async def test_same_alert_id_delivered_again_changes_nothing(harness: CaseHarness) -> None:
    key_id = harness.new_key()
    alert = harness.make_alert(key_id, Severity.MEDIUM, alert_id="surv-42")
    handle = await harness.send(alert)
    await harness.until(handle, lambda s: s.alerts.count == 1)

    for _ in range(3):
        await harness.send(alert)
    state = await harness.until(handle, lambda s: s.alerts.duplicates == 3)
    final = await handle.result()

    assert state.alerts.count == 1  # a second distinct medium alert would have escalated
    assert final.stage is CaseStage.CLEARED
    assert len(harness.store.of_type(EventType.ALERT_RECEIVED)) == 1


async def test_delivery_reports_advance_channel_status_only_forward(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    email = next(c for c in state.notices[0].channels if c.channel is Channel.EMAIL)

    def report(status: DeliveryStatus) -> DeliveryEvent:
        return DeliveryEvent(
            notice_id="warning",
            channel=Channel.EMAIL,
            status=status,
            outbox_id=email.outbox_id,
            occurred_at=state.opened_at + timedelta(minutes=1),
        )

    await handle.signal("delivery_event", report(DeliveryStatus.DELIVERED))
    await handle.signal("delivery_event", report(DeliveryStatus.SENT))  # late, stale
    await harness.until(handle, lambda s: len(harness.store.of_type(EventType.NOTICE_DELIVERY)) > 0)
    state = await harness.state(handle)

    warning = state.notice("warning")
    assert warning is not None
    statuses = {c.channel: c.status for c in warning.channels}
    assert statuses == {Channel.EMAIL: DeliveryStatus.DELIVERED, Channel.SMS: DeliveryStatus.SENT}
    assert len(harness.store.of_type(EventType.NOTICE_DELIVERY)) == 1


async def test_failed_channel_is_recorded_and_case_goes_on(harness: CaseHarness) -> None:
    harness.notices.failing = {Channel.SMS}
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    warning = state.notice("warning")
    assert warning is not None
    sms = next(c for c in warning.channels if c.channel is Channel.SMS)
    assert sms.status is DeliveryStatus.FAILED
    assert sms.error == "provider refused the address"
    [fact] = harness.store.of_type(EventType.NOTICE_SENT)
    assert {c["channel"]: c["status"] for c in fact.payload["channels"]} == {
        "email": "sent",
        "sms": "failed",
    }


async def test_refused_key_measure_is_recorded_and_case_goes_on(harness: CaseHarness) -> None:
    key_id = harness.new_key()
    harness.store.unknown_keys.add(key_id)
    handle = await harness.send(harness.make_alert(key_id, Severity.HIGH))
    state = await handle.result()

    assert state.stage is CaseStage.EXPIRED
    failures = harness.store.of_type(EventType.KEY_MEASURE_FAILED)
    assert [f.payload["measure"] for f in failures] == ["monitor", "expire"]
    assert len(harness.store.of_type(EventType.CASE_OPENED)) == 1


async def _runs(
    client: Client, workflow_id: str, first_run_id: str
) -> list[list[HistoryEventProto]]:
    """The history of every run of the case, following continue-as-new."""
    runs, run_id = [], first_run_id
    while True:
        events = list(
            (await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events
        )
        runs.append(events)
        last = events[-1]
        if last.event_type != HistoryEvent.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


async def test_flood_of_alerts_counts_each_and_keeps_history_bounded(
    harness: CaseHarness,
) -> None:
    harness.patience = 240
    key_id = harness.new_key()
    alerts = [harness.make_alert(key_id, Severity.MEDIUM) for _ in range(FLOOD)]
    handle = await harness.send(alerts[0])
    first_run_id = (await handle.describe()).run_id

    async def deliver(batch: list[Alert]) -> None:
        for alert in batch:
            await harness.send(alert)

    rest = alerts[1:] + alerts[-REPEATS:]
    async with asyncio.timeout(harness.patience):  # each phase bounded: a wedge fails, named
        await asyncio.gather(*(deliver(rest[i::25]) for i in range(25)))
    await harness.until(handle, lambda s: s.alerts.count + s.alerts.duplicates == FLOOD + REPEATS)
    try:
        async with asyncio.timeout(harness.patience):  # a wedged run fails here, never hangs
            result: OfficerActionResult = await handle.execute_update(
                OfficerAction.DISMISS.value,
                DismissInput(actor="kim", reason="load test"),
                result_type=OfficerActionResult,
            )
            final = await handle.result()  # the latest run's result
    except TimeoutError:
        raise AssertionError(
            f"the case did not end:\n{await history_tail(harness.env.client, handle.id)}"
        ) from None

    assert result.stage is CaseStage.DISMISSED
    assert final.alerts.count == FLOOD
    assert final.alerts.duplicates == REPEATS
    assert len(harness.store.of_type(EventType.ALERT_RECEIVED)) == FLOOD
    runs = await _runs(harness.env.client, handle.id, first_run_id)
    lengths = [len(events) for events in runs]
    carried = [len(events[0].SerializeToString()) for events in runs[1:]]
    print(f"flood of {FLOOD} alerts: runs with {lengths} events, carried starts of {carried} bytes")
    assert len(runs) == final.runs > 1
    # Continue-as-new waits for a gap in the stream (the server refuses it while signals are
    # buffered), so one run grows with a gapless burst; it must stay under the server's
    # warning threshold, where it would suggest continuing as new itself.
    assert max(lengths) < SERVER_HISTORY_WARNING
    assert max(carried) < SERVER_PAYLOAD_WARNING


async def test_a_write_the_store_refuses_is_recorded_and_the_case_goes_on(
    harness: CaseHarness,
) -> None:
    handle = await harness.open(Severity.MEDIUM)
    state = await harness.until(handle, lambda s: s.alerts.count == 1)
    harness.store.refusing = {EventType.ALERT_RECEIVED}

    await harness.send(harness.make_alert(state.key_id, Severity.MEDIUM))
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)

    assert state.store_refusal_count == 2  # the second alert's fact and its stage change
    assert {r.event_type for r in state.store_refusals} == {"alert.received", "stage.changed"}
    [noted] = harness.store.of_type(EventType.STORE_REFUSED)
    assert [r["event_type"] for r in noted.payload["refused"]] == [
        "alert.received",
        "stage.changed",
    ]
    assert "**Store refused** 2 fact(s)" in metadata.current_details
    assert harness.notices.ids() == ["warning"]
