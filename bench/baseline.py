"""The platform's own ceiling on the same server: trivial workflows and raw signal-with-start.

Every keycase figure is divided by one of these, measured in the same run, because on a
shared 2-core machine absolute rates drift while ratios hold.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from api.intake import signal_with_start
from domain.alerts import Alert

BASELINE_QUEUE = "bench-baseline"
SINK_QUEUE = "bench-sink"  # no worker polls it: signal-with-start is measured on its own


@workflow.defn(name="BenchTrivialWorkflow", sandboxed=False)
class TrivialWorkflow:
    """The cheapest workflow there is: one task, then complete."""

    @workflow.run
    async def run(self, n: int) -> int:
        return n


@workflow.defn(name="BenchSinkWorkflow", sandboxed=False)
class SinkWorkflow:
    """Only a target for signal-with-start; never runs (no worker on its queue)."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def poke(self, n: int) -> None:
        """Accepts a signal."""


async def bounded(jobs: list[Callable[[], Awaitable[object]]], concurrency: int) -> None:
    """Run `jobs` with at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(job) for job in jobs))


async def trivial_workflows_per_second(client: Client, count: int, concurrency: int = 50) -> float:
    """Start and complete `count` trivial workflows through an in-process worker."""
    run = uuid.uuid4().hex[:8]

    def job(n: int) -> Callable[[], Awaitable[object]]:
        return lambda: client.execute_workflow(
            TrivialWorkflow.run,
            n,
            id=f"bench-trivial-{run}-{n}",
            task_queue=BASELINE_QUEUE,
            execution_timeout=timedelta(minutes=5),
        )

    async with Worker(
        client, task_queue=BASELINE_QUEUE, workflows=[TrivialWorkflow], max_cached_workflows=500
    ):
        started = time.perf_counter()
        await bounded([job(n) for n in range(count)], concurrency)
        return count / (time.perf_counter() - started)


async def signal_with_start_per_second(
    client: Client, count: int, keys: int, concurrency: int = 50
) -> float:
    """Raw signal-with-start calls onto `keys` workflow ids (as alerts would land)."""
    run = uuid.uuid4().hex[:8]

    def job(n: int) -> Callable[[], Awaitable[object]]:
        return lambda: client.start_workflow(
            SinkWorkflow.run,
            id=f"bench-sink-{run}-{n % keys}",
            task_queue=SINK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="poke",
            start_signal_args=[n],
            execution_timeout=timedelta(minutes=10),
        )

    started = time.perf_counter()
    await bounded([job(n) for n in range(count)], concurrency)
    elapsed = time.perf_counter() - started
    await bounded([_terminate(client, f"bench-sink-{run}-{k}") for k in range(keys)], concurrency)
    return count / elapsed


async def alerts_signal_with_start_per_second(
    client: Client, alerts: list[Alert], task_queue: str, concurrency: int
) -> float:
    """The API's own signal-with-start for each alert, called directly: cases run as usual."""

    def job(alert: Alert) -> Callable[[], Awaitable[object]]:
        return lambda: signal_with_start(alert, task_queue, client)

    started = time.perf_counter()
    await bounded([job(alert) for alert in alerts], concurrency)
    return len(alerts) / (time.perf_counter() - started)


def _terminate(client: Client, workflow_id: str) -> Callable[[], Awaitable[object]]:
    return lambda: client.get_workflow_handle(workflow_id).terminate("benchmark done")
