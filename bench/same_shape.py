"""The floor under a case: a bare workflow issuing exactly a standard expiry case's commands.

Per tests/workflows/histories/standard_expiry.json: the first turn runs two local
activities (pin the policy, flag the key) and upserts the stage; then a notice activity
and a timer; the notice's completion runs a local activity and an upsert; each of three
timers fires a turn that sends a notice (the first two also start the next timer); the
last runs the expiry's local activity, an upsert and the expiry notice. Every body is a
no-op. Its worker runs as a process of its own (`python -m bench.same_shape ADDRESS
QUEUE`), like keycase's, so their CPU compares like for like.
"""

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench.baseline import bounded
from domain.search_attributes import CASE_STAGE
from workflows.key_case import STARTING_PATCHES

WORKFLOW_NAME = "BenchSameShapeWorkflow"
_LOCAL = timedelta(seconds=30)
_REMOTE = timedelta(minutes=2)


@activity.defn(name="bench_noop")
async def noop(step: str) -> str:
    """Does nothing: the case's store writes and notices without their work."""
    return step


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class SameShapeWorkflow:
    """A standard expiry case's commands, in its order, with nothing behind them."""

    def __init__(self) -> None:
        self._alerts = 0

    @workflow.signal(name="alert")
    def alert(self, n: int) -> None:
        """The alert that opens the case (signal-with-start, as keycase's intake does)."""
        self._alerts += 1

    @workflow.run
    async def run(self, timers: list[float]) -> int:
        for change in STARTING_PATCHES:  # markers as keycase's releases leave in a case
            workflow.patched(f"bench-{change}")
        await self._local("policy")
        await self._local("monitor")
        self._stage("WARNED")
        notice = self._notice("warning")
        timer = asyncio.ensure_future(asyncio.sleep(timers[0]))
        await notice
        await self._local("notice sent")
        self._stage("KYC_PENDING")
        await timer
        for wait in timers[1:]:
            notice = self._notice("reminder")
            timer = asyncio.ensure_future(asyncio.sleep(wait))
            await notice
            await timer
        await self._local("expire")
        self._stage("EXPIRED")
        await self._notice("expired")
        return self._alerts

    async def _local(self, step: str) -> None:
        await workflow.execute_local_activity(noop, step, start_to_close_timeout=_LOCAL)

    def _notice(self, step: str) -> "asyncio.Future[str]":
        return workflow.start_activity(noop, step, start_to_close_timeout=_REMOTE)

    def _stage(self, stage: str) -> None:
        workflow.upsert_search_attributes([CASE_STAGE.value_set(stage)])


async def same_shape_per_second(
    client: Client, task_queue: str, count: int, timers: list[float], concurrency: int = 8
) -> tuple[float, int]:
    """Start `count` same-shape cases by signal-with-start and wait for all to end.

    Returns (cases per second, history events of one case).
    """
    run = uuid.uuid4().hex[:8]
    handles: list[WorkflowHandle[SameShapeWorkflow, int]] = []

    def job(n: int) -> Callable[[], Awaitable[None]]:
        async def start() -> None:
            handle = await client.start_workflow(
                SameShapeWorkflow.run,
                timers,
                id=f"bench-same-shape-{run}-{n}",
                task_queue=task_queue,
                start_signal="alert",
                start_signal_args=[n],
                execution_timeout=timedelta(minutes=10),
            )
            handles.append(handle)

        return start

    started = time.perf_counter()
    await bounded([job(n) for n in range(count)], concurrency)
    await asyncio.gather(*(h.result() for h in handles))
    rate = count / (time.perf_counter() - started)
    events = len((await handles[0].fetch_history()).events)
    return rate, events


async def _serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(client, task_queue=task_queue, workflows=[SameShapeWorkflow], activities=[noop])
    await worker.run()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
