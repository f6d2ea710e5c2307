"""Record the case workflow's history of every path, for the replay test.

Run it when a release changes the workflow, *before* changing the workflow's code (so the
histories are those of the release that live cases run on), and commit them on their own:

    .venv/bin/python -m tests.workflows.record_history [--prefix r2_] [PATH ...]

Each path runs on the time-skipping server with the fake store and notices and writes one
file per run to `tests/workflows/histories/<prefix><path>.<run>.json.gz`. An existing file
is never overwritten: a recorded history is what a running case replays, for good.
"""

import argparse
import asyncio
import gzip
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from activities.policy import read_policy_file
from domain.alerts import Alert, Severity
from domain.messages import DeliveryEvent, KycResult, SignalName
from domain.notices import Channel, DeliveryStatus, NoticeKind
from domain.officer import (
    AddNoteInput,
    ApproveInput,
    AssignInput,
    ConfirmInput,
    DismissInput,
    ExpireNowInput,
    ExtendKycDeadlineInput,
    OfficerAction,
    OfficerActionResult,
    OfficerInput,
)
from domain.rings.ring import RingMembership
from domain.stages import CaseStage
from tests.temporal import time_skipping_server
from tests.workflows.conftest import CaseHarness, Handle, case_worker, one_officer

HISTORIES = Path(__file__).parent / "histories"
LONG_RUN_ALERTS = 2100  # more signals than the run's event budget: it continues as new

Path_ = Callable[[CaseHarness], Awaitable[Handle]]


async def _act(handle: Handle, action: OfficerAction, command: OfficerInput) -> None:
    await handle.execute_update(action.value, command, result_type=OfficerActionResult)


def _kyc(passed: bool, at: datetime) -> KycResult:
    return KycResult(passed=passed, reference="kyc-ref-1", actor="kyc-provider", received_at=at)


async def _awaiting_kyc(harness: CaseHarness, severity: Severity = Severity.HIGH) -> Handle:
    handle = await harness.open(severity)
    await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    return handle


async def kyc_failed_expiry(harness: CaseHarness) -> Handle:
    handle = await _awaiting_kyc(harness)
    state = await harness.state(handle)
    await handle.signal("kyc_result", _kyc(False, state.opened_at))
    return handle


async def restore(harness: CaseHarness) -> Handle:
    handle = await _awaiting_kyc(harness)
    state = await harness.state(handle)
    await handle.signal("kyc_result", _kyc(True, state.opened_at))
    return handle


async def probation_expired(harness: CaseHarness) -> Handle:
    handle = await _awaiting_kyc(harness)
    state = await harness.state(handle)
    await handle.signal("kyc_result", _kyc(True, state.opened_at))
    await harness.until(handle, lambda s: s.stage is CaseStage.PROBATION)
    await harness.send(harness.make_alert(state.key_id, Severity.LOW))
    return handle


async def clear(harness: CaseHarness) -> Handle:
    return await harness.open(Severity.MEDIUM)


async def dismiss(harness: CaseHarness) -> Handle:
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))
    return handle


async def officer_actions(harness: CaseHarness) -> Handle:
    """Confirm, assign, note, extend the deadline (after a reminder), then expire now."""
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)
    await _act(handle, OfficerAction.CONFIRM, ConfirmInput(actor="kim", reason="known ring"))
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    await _act(
        handle, OfficerAction.ASSIGN, AssignInput(actor="kim", reason="region", assignee="lee")
    )
    await _act(
        handle, OfficerAction.ADD_NOTE, AddNoteInput(actor="lee", reason="call", text="called")
    )
    assert state.kyc_deadline is not None
    await harness.env.sleep(timedelta(days=5, hours=1))  # past the first reminder (P2D)
    await harness.until(handle, lambda s: len(s.notices) == 2)
    await _act(
        handle,
        OfficerAction.EXTEND_KYC_DEADLINE,
        ExtendKycDeadlineInput(
            actor="lee", reason="owner abroad", deadline=state.kyc_deadline + timedelta(days=3)
        ),
    )
    await _act(handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="lee", reason="lending"))
    return handle


async def failed_sms_expiry(harness: CaseHarness) -> Handle:
    harness.notices.failing = {Channel.SMS}
    return await harness.open(Severity.HIGH)


async def unreachable_owner_expiry(harness: CaseHarness) -> Handle:
    harness.notices.failing = {Channel.SMS, Channel.EMAIL}
    return await harness.open(Severity.HIGH)


async def bounced_email_expiry(harness: CaseHarness) -> Handle:
    """The warning's e-mail bounces after the SMS failed; the deadline still passes."""
    harness.notices.failing = {Channel.SMS}
    handle = await _awaiting_kyc(harness)
    state = await harness.state(handle)
    warning = state.notice("warning")
    assert warning is not None
    email = next(c for c in warning.channels if c.channel is Channel.EMAIL)
    bounce = DeliveryEvent(
        notice_id="warning",
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        outbox_id=email.outbox_id,
        detail="bounce",
        occurred_at=state.opened_at + timedelta(minutes=5),
    )
    await handle.signal("delivery_event", bounce)
    return handle


async def refused_key_measure(harness: CaseHarness) -> Handle:
    key_id = harness.new_key()
    harness.store.unknown_keys.add(key_id)
    return await harness.send(harness.make_alert(key_id, Severity.HIGH))


async def continue_as_new(harness: CaseHarness) -> Handle:
    """A flood of alerts makes the run continue as new; an officer dismisses the case."""
    harness.patience = 240
    key_id = harness.new_key()
    handle = await harness.send(harness.make_alert(key_id, Severity.LOW))
    await harness.until(handle, lambda s: s.alerts.count == 1)
    await _act(handle, OfficerAction.CONFIRM, ConfirmInput(actor="kim", reason="known ring"))
    await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    alerts = [harness.make_alert(key_id, Severity.LOW) for _ in range(LONG_RUN_ALERTS)]

    async def deliver(batch: list[Alert]) -> None:
        for alert in batch:
            await harness.send(alert)

    await asyncio.gather(*(deliver(alerts[i::10]) for i in range(10)))
    await harness.until(handle, lambda s: s.runs > 1 and s.alerts.count == LONG_RUN_ALERTS + 1)
    latest = harness.env.client.get_workflow_handle(handle.id)
    await _act(latest, OfficerAction.DISMISS, DismissInput(actor="kim", reason="load test"))
    return handle


async def next_case(harness: CaseHarness) -> Handle:
    """An alert reaches a dismissed case while its warning is in flight: the next case opens."""
    harness.notices.held.add(NoticeKind.WARNING)
    handle = await harness.open(Severity.HIGH)
    await harness.until(handle, lambda s: s.stage is CaseStage.WARNED)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))
    first = await harness.until(handle, lambda s: not s.stage.is_open)
    await harness.send(harness.make_alert(first.key_id, Severity.LOW))
    harness.notices.release.set()
    return handle  # the next case clears after its quiet window


async def owner_unreachable(harness: CaseHarness) -> Handle:
    """No channel reaches the owner, retries included; an officer expires the key."""
    harness.notices.failing = {Channel.SMS, Channel.EMAIL}
    handle = await harness.open(Severity.HIGH)
    await harness.until(handle, lambda s: s.stage is CaseStage.OWNER_UNREACHABLE)
    await _act(handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="lee", reason="lending"))
    return handle


async def warning_retried(harness: CaseHarness) -> Handle:
    """Both channels refuse the warning; its retry by e-mail gets through; KYC passes."""
    harness.notices.failing_for = {"warning": {Channel.SMS, Channel.EMAIL}}
    harness.notices.failing_for["warning:via:sms"] = {Channel.SMS}
    handle = await _awaiting_kyc(harness)
    state = await harness.state(handle)
    await handle.signal("kyc_result", _kyc(True, state.opened_at))
    return handle


async def store_refused(harness: CaseHarness) -> Handle:
    """The store refuses a write; the case records the refusal and runs to expiry."""
    handle = await harness.open(Severity.MEDIUM)
    state = await harness.until(handle, lambda s: s.alerts.count == 1)
    harness.store.refusing = {"alert.received"}
    await harness.send(harness.make_alert(state.key_id, Severity.MEDIUM))
    return handle


async def ring_member(harness: CaseHarness) -> Handle:
    """The case is told its ring (RingId, details), then an officer dismisses it."""
    handle = await harness.open(Severity.LOW)
    await harness.until(handle, lambda s: s.alerts.count == 1)
    ring = RingMembership(ring_id="ring-0123456789abcdef0123", size=4)
    await handle.signal(SignalName.RING, ring)
    await harness.until(handle, lambda s: s.ring_id == ring.ring_id)
    await _act(handle, OfficerAction.DISMISS, DismissInput(actor="kim", reason="market maker"))
    return handle


async def four_eyes(harness: CaseHarness) -> Handle:
    """An officer's expire-now on a high case waits; a second officer approves it."""
    handle = await _awaiting_kyc(harness)
    await _act(handle, OfficerAction.EXPIRE_NOW, ExpireNowInput(actor="kim", reason="lending"))
    await _act(handle, OfficerAction.APPROVE, ApproveInput(actor="lee", reason="agreed"))
    return handle


PATHS: dict[str, Path_] = {
    "kyc_failed_expiry": kyc_failed_expiry,
    "restore": restore,
    "probation_expired": probation_expired,
    "clear": clear,
    "dismiss": dismiss,
    "officer_actions": officer_actions,
    "failed_sms_expiry": failed_sms_expiry,
    "unreachable_owner_expiry": unreachable_owner_expiry,
    "bounced_email_expiry": bounced_email_expiry,
    "refused_key_measure": refused_key_measure,
    "continue_as_new": continue_as_new,
    "next_case": next_case,
    # since release 2026-12 (recorded with --prefix r2026_12_)
    "owner_unreachable": owner_unreachable,
    "warning_retried": warning_retried,
    "store_refused": store_refused,
    # since ring-membership (recorded with --prefix r2026_12_rings_)
    "ring_member": ring_member,
    # since four eyes (recorded with --prefix r2026_12c_)
    "four_eyes": four_eyes,
}
# Paths recorded with the shipped policy as it is (four eyes on high and critical cases).
FOUR_EYES_PATHS = {"four_eyes"}


# Paths of older releases that no longer end by themselves (the owner was never reached:
# the case now waits for an officer, see owner_unreachable); recorded only when named.
RETIRED = {"unreachable_owner_expiry", "bounced_email_expiry"}


async def _runs(client: Client, handle: Handle) -> list[WorkflowHistory]:
    """Every run of the workflow from the first, following continue-as-new to the end."""
    runs: list[WorkflowHistory] = []
    run_id = handle.first_execution_run_id or handle.result_run_id
    while True:
        run = client.get_workflow_handle(handle.id, run_id=run_id)
        history = await run.fetch_history()
        runs.append(history)
        last = history.events[-1]
        if last.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return runs
        run_id = last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id


async def record(name: str, prefix: str) -> None:
    """Run one path to its end and write the history of each of its runs."""
    targets = HISTORIES.glob(f"{prefix}{name}.*.json.gz")
    if any(targets):
        print(f"{prefix}{name}: already recorded, left alone")
        return
    async with time_skipping_server() as env:
        shipped = read_policy_file(None)  # the other paths' officers decide alone
        policy = shipped if name in FOUR_EYES_PATHS else one_officer(shipped)
        harness = CaseHarness(env, f"keycase-record-{uuid.uuid4().hex}", policy)
        async with case_worker(harness):
            handle = await PATHS[name](harness)
            await handle.result()
            runs = await _runs(env.client, handle)
    for number, history in enumerate(runs, start=1):
        target = HISTORIES / f"{prefix}{name}.{number}.json.gz"
        target.write_bytes(gzip.compress(history.to_json().encode(), mtime=0))
        print(f"wrote {target.name} ({len(history.events)} events)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", help=f"some of: {', '.join(PATHS)}")
    parser.add_argument("--prefix", default="", help="name the histories of a new release")
    args = parser.parse_args()
    unknown = set(args.paths) - set(PATHS)
    if unknown:
        parser.error(f"unknown paths: {sorted(unknown)}")
    for name in args.paths or [p for p in PATHS if p not in RETIRED]:
        await record(name, args.prefix)


if __name__ == "__main__":
    asyncio.run(main())
