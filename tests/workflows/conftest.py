"""A case worker per test: the real workflow and load_policy, fakes for store and notices."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.policy import PolicyActivities, read_policy_file
from domain.alerts import Alert, AlertKind, Severity
from domain.case import CaseState, KeyCaseInput, case_summary
from domain.ids import case_workflow_id
from domain.messages import SignalName
from domain.policy import FourEyesPolicy, LadderPolicy
from tests.temporal import time_skipping_server
from tests.workflows.fakes import FakeNotices, FakeStore
from workflows.key_case import KeyCaseWorkflow

Handle = WorkflowHandle[KeyCaseWorkflow, CaseState]
_numbers = count(1)


@dataclass
class CaseHarness:
    """Starts cases the way the API does and reads them back."""

    env: WorkflowEnvironment
    task_queue: str
    policy: LadderPolicy
    store: FakeStore = field(default_factory=FakeStore)
    notices: FakeNotices = field(default_factory=FakeNotices)
    started: list[Handle] = field(default_factory=list)
    patience: float = 15  # seconds `until` waits, in real time

    def __post_init__(self) -> None:
        self.notices.store = self.store

    @staticmethod
    def new_key() -> str:
        return f"key-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def make_alert(
        key_id: str,
        severity: Severity = Severity.HIGH,
        kind: AlertKind = AlertKind.KEY_SHARING,
        alert_id: str | None = None,
    ) -> Alert:
        return Alert(
            alert_id=alert_id or f"alert-{next(_numbers)}",
            key_id=key_id,
            account_id="acct-1",
            exchange="upbit",
            kind=kind,
            severity=severity,
            observed_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            evidence={"ips": ["198.51.100.4", "203.0.113.9"], "window": "PT10M"},
        )

    async def send(self, alert: Alert) -> Handle:
        """Signal-with-start, exactly as `POST /v1/alerts` does it."""
        handle = await self.env.client.start_workflow(
            KeyCaseWorkflow.run,
            KeyCaseInput(key_id=alert.key_id, account_id=alert.account_id, exchange=alert.exchange),
            id=case_workflow_id(alert.key_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal=SignalName.ALERT,
            start_signal_args=[alert],
            static_summary=case_summary(alert.key_id, alert.exchange),
        )
        self.started.append(handle)
        return handle

    async def open(self, severity: Severity = Severity.HIGH) -> Handle:
        key_id = self.new_key()
        return await self.send(self.make_alert(key_id, severity))

    async def state(self, handle: Handle) -> CaseState:
        return await handle.query(KeyCaseWorkflow.case)

    async def until(self, handle: Handle, ready: Callable[[CaseState], bool]) -> CaseState:
        """Poll the `case` query (in real time) until `ready` holds."""
        async with asyncio.timeout(self.patience):
            while True:
                try:
                    state = await self.state(handle)
                except Exception:  # the first task may not have run yet
                    state = None
                if state is not None and ready(state):
                    return state
                await asyncio.sleep(0.05)


async def history_tail(client: Client, workflow_id: str, events: int = 40) -> str:
    """The last events of the key's latest run, with failures spelled out: why a run is stuck."""
    lines: list[str] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        failure = event.workflow_task_failed_event_attributes.failure.message
        lines.append(f"{event.event_id} {EventType.Name(event.event_type)} {failure[:300]}")
    return "\n".join(lines[-events:])


def case_worker(
    harness: CaseHarness, policy: LadderPolicy | None = None, *, sticky: bool = True
) -> Worker:
    """A worker for the harness's task queue: the real workflow and load_policy, fake effects.

    `sticky=False` keeps no case in memory, so the next worker picks it up at once after
    this one stops (the time-skipping server left a stopped worker's sticky tasks waiting).
    It keeps the SDK's default sandboxed runner: production workers run unsandboxed, so a
    non-deterministic call in workflow code must be caught here.
    """
    return Worker(
        harness.env.client,
        task_queue=harness.task_queue,
        workflows=[KeyCaseWorkflow],
        activities=[
            PolicyActivities(policy or harness.policy).load_policy,
            harness.store.record_case_facts,
            harness.store.apply_key_measure,
            harness.notices.send_notice,
        ],
        # A bug in workflow code fails the case at once instead of retrying the task forever.
        workflow_failure_exception_types=[Exception],
        max_cached_workflows=1000 if sticky else 0,
    )


async def end_cases(harness: CaseHarness) -> None:
    """Leave no open case behind on the shared server, and no time-skipping lock either.

    The time-skipping server holds a lock on skipping for every workflow task and activity
    in flight and releases it when the worker completes them; a run terminated meanwhile
    refuses that completion, and the lock is never released. Every later test that needs
    time to skip then waits in real time, for days: the workflow tests "hung" about once
    in ten runs. So each case is left to finish what it is doing before it is terminated.
    """
    harness.notices.release.set()
    for handle in harness.started:
        case = harness.env.client.get_workflow_handle(handle.id)
        with contextlib.suppress(RPCError):
            with contextlib.suppress(TimeoutError):  # still busy: terminated all the same
                await settled(case)
            await case.terminate("test over")


async def settled(case: WorkflowHandle[Any, Any], seconds: float = 10.0) -> None:
    """Once the run has no workflow task and no activity in flight (or has ended).

    The test server's description lists pending activities but no pending workflow task,
    so that one is read from the history."""
    async with asyncio.timeout(seconds):
        while True:
            described = await case.describe()
            if described.status is not WorkflowExecutionStatus.RUNNING:
                return
            if not described.raw_description.pending_activities and not await _task_open(case):
                return
            await asyncio.sleep(0.02)


async def _task_open(case: WorkflowHandle[Any, Any]) -> bool:
    open_task = False
    async for event in case.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            open_task = True
        elif event.event_type in _TASK_CLOSED:
            open_task = False
    return open_task


_TASK_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


@pytest_asyncio.fixture(scope="package")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of this package's own.

    The test server stops skipping time while any workflow task is pending, so one left by
    another package's test (a workflow cancelled just before its worker stopped) would make
    every deadline here wait in real time. Our own server keeps these tests independent.
    """
    async with time_skipping_server() as env:
        yield env


def one_officer(policy: LadderPolicy) -> LadderPolicy:
    """The policy with no four eyes: one officer's dismiss or expire-now applies at once."""
    return policy.model_copy(update={"four_eyes": FourEyesPolicy(severities=())})


@pytest_asyncio.fixture
async def harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[CaseHarness]:
    """A worker on a fresh task queue with the shipped ladder, one officer deciding.

    These tests follow the ladder, whose officer steps one officer takes; four eyes, as
    shipped, has its own tests (`test_four_eyes.py`, fixture `shipped_harness`).
    """
    harness = CaseHarness(
        time_skipping_env, f"keycase-test-{uuid.uuid4().hex}", one_officer(read_policy_file(None))
    )
    async with case_worker(harness):
        yield harness
        await end_cases(harness)


@pytest_asyncio.fixture
async def shipped_harness(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[CaseHarness]:
    """A worker with the shipped default policy as it is, four eyes included."""
    harness = CaseHarness(
        time_skipping_env, f"keycase-test-{uuid.uuid4().hex}", read_policy_file(None)
    )
    async with case_worker(harness):
        yield harness
        await end_cases(harness)
