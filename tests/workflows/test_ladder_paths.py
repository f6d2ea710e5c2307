"""Cases going up (and down) the ladder on their own, on the time-skipping server."""

from datetime import datetime, timedelta

from temporalio.api.enums.v1 import EventType as EventType_

from domain.activity_io import KeyMeasure
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.keys import KeyStatus
from domain.messages import KycResult
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness


def _kyc(passed: bool, at: datetime) -> KycResult:
    return KycResult(passed=passed, reference="kyc-ref-1", actor="kyc-provider", received_at=at)


def _about(actual: datetime | None, expected: datetime | None) -> bool:
    """Equal up to the server's millisecond timer resolution."""
    assert actual is not None and expected is not None
    return abs(actual - expected) < timedelta(seconds=1)


async def test_single_medium_alert_clears_after_quiet_window(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.MEDIUM)
    state = await handle.result()

    assert state.stage is CaseStage.CLEARED
    assert state.closed_at is not None
    assert _about(state.closed_at, state.opened_at + timedelta(days=3))
    assert [m.measure for m in harness.store.measures] == [KeyMeasure.MONITOR, KeyMeasure.UNFLAG]
    assert harness.store.keys[state.key_id] is KeyStatus.ACTIVE
    assert harness.notices.sent == []
    assert len(harness.store.of_type(EventType.CASE_CLOSED)) == 1


async def test_second_medium_alert_escalates_by_count(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.MEDIUM)
    await harness.until(handle, lambda s: s.alerts.count == 1)
    assert (await harness.state(handle)).stage is CaseStage.MONITORING

    await harness.send(harness.make_alert(handle.id.removeprefix("keycase-"), Severity.MEDIUM))
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    assert state.alerts.count == 2
    assert [s.stage for s in state.stages] == [
        CaseStage.MONITORING,
        CaseStage.WARNED,
        CaseStage.AWAITING_KYC,
    ]
    assert harness.notices.ids() == ["warning"]
    assert state.kyc_deadline == state.stages[1].at + timedelta(days=5)


async def test_higher_severity_alert_escalates_a_monitored_case(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)

    await harness.send(harness.make_alert(handle.id.removeprefix("keycase-"), Severity.HIGH))
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    assert state.severity is Severity.HIGH
    assert state.alerts.count == 2  # below the 3 that a low case needs
    assert not state.restricted


async def test_critical_alert_restricts_and_warns_at_once(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.CRITICAL)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    assert state.restricted
    assert state.key_status is KeyStatus.RESTRICTED
    assert [m.measure for m in harness.store.measures] == [KeyMeasure.RESTRICT]
    assert state.kyc_deadline == state.stages[1].at + timedelta(days=2)
    assert harness.notices.sent[0].deadline == state.kyc_deadline


async def test_kyc_passed_gives_probation_then_restores_key(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    await handle.signal("kyc_result", _kyc(True, state.opened_at))
    probation = await harness.until(handle, lambda s: s.stage is CaseStage.PROBATION)
    state = await handle.result()

    assert state.stage is CaseStage.RESTORED
    assert probation.probation_until is not None
    assert _about(state.closed_at, probation.probation_until)
    assert probation.probation_until - probation.stages[-1].at == timedelta(days=60)
    assert [m.measure for m in harness.store.measures] == [KeyMeasure.MONITOR, KeyMeasure.RESTORE]
    assert harness.notices.ids() == ["warning", "restored"]
    assert [r.passed for r in state.kyc_results] == [True]


async def test_kyc_failed_expires_key(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    await handle.signal("kyc_result", _kyc(False, state.opened_at))
    state = await handle.result()

    assert state.stage is CaseStage.EXPIRED
    assert state.stages[-1].reason == "re-verification failed"
    assert harness.store.keys[state.key_id] is KeyStatus.EXPIRED
    assert harness.notices.ids() == ["warning", "expiry"]


async def test_deadline_passes_without_kyc_expires_key_after_each_reminder(
    harness: CaseHarness,
) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await handle.result()

    deadline = state.kyc_deadline
    assert deadline is not None
    assert state.stage is CaseStage.EXPIRED
    assert _about(state.closed_at, deadline)
    sent = {n.notice_id: n for n in harness.notices.sent}
    assert list(sent) == ["warning", "kyc_reminder:0:P1D", "kyc_reminder:0:PT6H", "expiry"]
    assert _about(sent["kyc_reminder:0:P1D"].occurred_at, deadline - timedelta(days=1))
    assert _about(sent["kyc_reminder:0:PT6H"].occurred_at, deadline - timedelta(hours=6))
    assert sent["expiry"].occurred_at >= harness.store.measures[-1].occurred_at
    assert harness.store.measures[-1].measure is KeyMeasure.EXPIRE
    assert state.key_status is KeyStatus.EXPIRED
    assert state.key_gateway_reason == "expired"
    [closed] = harness.store.of_type(EventType.CASE_CLOSED)
    assert closed.payload == {
        "stage": "EXPIRED",
        "alerts": 1,
        "reason": "KYC deadline passed without re-verification",
        "decided_by": "keycase",
    }


async def test_alert_during_probation_expires_key(harness: CaseHarness) -> None:
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    await handle.signal("kyc_result", _kyc(True, state.opened_at))
    await harness.until(handle, lambda s: s.stage is CaseStage.PROBATION)

    await harness.send(harness.make_alert(state.key_id, Severity.LOW))
    state = await handle.result()

    assert state.stage is CaseStage.EXPIRED
    assert state.stages[-1].reason == "new alert during probation"
    assert [m.measure for m in harness.store.measures][-1] is KeyMeasure.EXPIRE


async def test_notices_are_sent_with_a_heartbeat_timeout_of_seconds(harness: CaseHarness) -> None:
    """A worker lost mid-send is noticed by its missing heartbeat, not after the attempt
    timeout: the retry starts within seconds (see case_effects.NOTICE_HEARTBEAT_TIMEOUT)."""
    handle = await harness.open(Severity.HIGH)
    await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    history = await handle.fetch_history()
    [warning] = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.event_type == EventType_.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]

    assert warning.activity_type.name == "send_notice"
    assert warning.heartbeat_timeout.ToTimedelta() <= timedelta(seconds=10)
    assert warning.retry_policy.initial_interval.ToTimedelta() <= timedelta(seconds=2)
