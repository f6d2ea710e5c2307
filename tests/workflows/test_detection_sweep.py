"""The detection sweep on the time-skipping server: real store, real intake, real case workflow.

Labelled patterns are logged into a SQLite store; a sweep counts them, runs the detectors
and raises their hits through intake into KeyCaseWorkflow (with the fake case effects).
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
import pytest_asyncio
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.detection import AlertRaiser, DetectionActivities
from api.schemas import AlertStatus
from domain.detection.hits import Hit
from domain.detection.policy import DETECTOR_NAMES, DetectionPolicy
from domain.detection.sweep import SweepInput, SweepResult
from domain.ids import case_workflow_id
from domain.search_attributes import DETECTOR_HITS
from store.engine import open_store
from store.port import Store
from tests.detection.loading import register, replay_requests
from tests.detection.patterns import Pattern, labelled_patterns
from tests.store.databases import sqlite_database
from tests.workflows.conftest import CaseHarness
from workflows.detection_sweep import DetectionSweepWorkflow

START = datetime(2026, 3, 2, 0, 3, tzinfo=UTC)
NOW = START + timedelta(days=2)


class FlakyRaiser(AlertRaiser):
    """Fails once after raising `fail_after` of shared_origin's 7 alerts: an activity dying
    halfway through its detector's hits."""

    def __init__(self, raiser: AlertRaiser, fail_after: int) -> None:
        self.__dict__.update(raiser.__dict__)
        self.fail_after = fail_after
        self.raised = 0

    async def raise_hit(self, hit: Hit, account_id: str, exchange: str) -> AlertStatus | None:
        if hit.detector == "shared_origin":
            if self.raised == self.fail_after:
                self.fail_after = -1
                raise RuntimeError("worker lost halfway through the alerts")
            self.raised += 1
        return await super().raise_hit(hit, account_id, exchange)


@dataclass
class Sweeps:
    harness: CaseHarness
    store: Store
    raiser: AlertRaiser
    patterns: list[Pattern]
    last: WorkflowHandle[DetectionSweepWorkflow, SweepResult] | None = None

    async def run(self, raiser: AlertRaiser | None = None) -> SweepResult:
        activities = DetectionActivities(
            self.store, DetectionPolicy(), raiser or self.raiser, clock=lambda: NOW
        )
        async with Worker(
            self.harness.env.client,
            task_queue=f"{self.harness.task_queue}-sweep",
            workflows=[DetectionSweepWorkflow],
            activities=[
                activities.count_access_log,
                activities.run_detector,
                activities.finish_sweep,
            ],
        ):
            self.last = await self.harness.env.client.start_workflow(
                DetectionSweepWorkflow.run,
                SweepInput(),
                id=f"sweep-{uuid4().hex}",
                task_queue=f"{self.harness.task_queue}-sweep",
            )
            return await self.last.result()

    def alerts_of(self, key_id: str) -> list[str]:
        facts = self.harness.store.of_type("alert.received")
        return [f.payload["alert_id"] for f in facts if f.key_id == key_id]


@pytest_asyncio.fixture
async def sweeps(harness: CaseHarness, tmp_path: Path) -> AsyncIterator[Sweeps]:
    store = open_store(sqlite_database(tmp_path))
    patterns = labelled_patterns(START, prefix=uuid4().hex[:6])
    await register(store, patterns)
    await replay_requests(store, patterns)
    raiser = AlertRaiser(harness.env.client, harness.task_queue, store)
    yield Sweeps(harness, store, raiser, patterns)
    await store.close()
    # The cases intake opened: left running, their timers would stop the shared server
    # skipping time for the tests after these (see tests/workflows/conftest.py).
    for spec in (k for p in patterns for k in p.keys):
        with contextlib.suppress(RPCError):
            await harness.env.client.get_workflow_handle(case_workflow_id(spec.key_id)).terminate()


def _raised(result: SweepResult) -> int:
    return sum(d.opened + d.attached for d in result.detectors)


async def test_sweep_opens_a_case_for_every_abusive_pattern_and_none_for_benign_ones(
    sweeps: Sweeps,
) -> None:
    result = await sweeps.run()

    expected = {pair for p in sweeps.patterns for pair in p.expected}
    assert sweeps.last is not None
    described = await sweeps.last.describe()
    assert described.typed_search_attributes.get(DETECTOR_HITS) == len(expected)
    assert result.rows == sum(len(p.requests) for p in sweeps.patterns)
    assert _raised(result) == sum(d.hits for d in result.detectors) == len(expected)
    for pattern in sweeps.patterns:
        for spec in pattern.keys:
            raised = sweeps.alerts_of(spec.key_id)
            detectors = {alert_id.split(".")[1] for alert_id in raised}
            wanted = {d for d, k in pattern.expected if k == spec.key_id}
            assert detectors == wanted, (pattern.name, spec.key_id)
            assert len(raised) == len(wanted)


async def test_second_sweep_over_the_same_rows_raises_nothing_new(sweeps: Sweeps) -> None:
    first = await sweeps.run()
    again = await sweeps.run()

    assert _raised(first) > 0
    assert again.rows == 0 and again.detectors == []
    assert len(sweeps.harness.store.of_type("alert.received")) == _raised(first)


async def test_sweep_failing_halfway_then_retried_raises_each_hit_once(sweeps: Sweeps) -> None:
    flaky = FlakyRaiser(sweeps.raiser, fail_after=2)

    result = await sweeps.run(flaky)

    expected = {pair for p in sweeps.patterns for pair in p.expected}
    # The retry raises all of shared_origin's hits again: intake knows the first two.
    assert sum(d.duplicates for d in result.detectors) == 2
    assert _raised(result) == len(expected) - 2
    for _, key_id in expected:
        assert len(sweeps.alerts_of(key_id)) == 1


async def test_a_failed_sweep_leaves_its_windows_to_the_next_one(sweeps: Sweeps) -> None:
    class Broken(AlertRaiser):
        async def raise_hit(self, hit: Hit, account_id: str, exchange: str) -> AlertStatus | None:
            if hit.detector == "shared_origin":
                raise ApplicationError("intake unreachable", non_retryable=True)
            return await super().raise_hit(hit, account_id, exchange)

    broken = Broken.__new__(Broken)
    broken.__dict__.update(sweeps.raiser.__dict__)
    with pytest.raises(WorkflowFailureError):
        await sweeps.run(broken)
    retried = await sweeps.run()

    expected = {pair for p in sweeps.patterns for pair in p.expected}
    assert retried.rows == 0  # counted once, by the failed sweep
    # The failed sweep raised the detectors before shared_origin; the retry raises the rest.
    rest = DETECTOR_NAMES[DETECTOR_NAMES.index("shared_origin") :]
    assert _raised(retried) == sum(1 for d, _ in expected if d in rest)
    assert sum(d.duplicates for d in retried.detectors) == len(expected) - _raised(retried)
    for _, key_id in expected:
        assert len(sweeps.alerts_of(key_id)) == 1
