"""keycase's expiry cases against the same commands bare, run right after keycase's burst."""

import asyncio
import sys
import uuid

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.figures import Report
from bench.same_shape import same_shape_per_second
from bench.stack import BenchStack, cpu_seconds

# bench/policy.toml's high severity: a 3 s KYC deadline with reminders 2 s and 1 s before.
TIMERS = [1.0, 1.0, 1.0]
WORKER_READY_SECONDS = 5.0  # imports and first polls, kept out of the measured CPU


async def same_shape_floor(
    stack: BenchStack,
    report: Report,
    cases: int,
    case_rate: float,
    case_events: int,
    worker_ms: float,
) -> None:
    """The same-shape rate, history and worker CPU, each beside keycase's."""
    queue = f"bench-same-shape-{uuid.uuid4().hex[:8]}"
    address = stack.temporal.service_client.config.target_host
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.same_shape", address, queue
    )
    try:
        await asyncio.sleep(WORKER_READY_SECONDS)
        before = cpu_seconds(worker.pid)
        # The floor has nothing behind its commands, payload encryption included: its
        # worker decodes plain pydantic payloads, so its client sends them.
        plain = Client(
            stack.temporal.service_client,
            namespace=stack.temporal.namespace,
            data_converter=pydantic_data_converter,
        )
        rate, events = await same_shape_per_second(plain, queue, cases, TIMERS)
        same_worker_ms = (cpu_seconds(worker.pid) - before) / cases * 1000
    finally:
        worker.terminate()
        await worker.wait()
    name = "case cost"
    report.add(name, "same-shape cases per second (floor)", rate, "cases/s")
    ratio = case_rate / rate
    report.add(name, "cases / same-shape", ratio, "ratio", ">= 0.9", ratio >= 0.9)
    report.add(name, "history events, same-shape case", events, "events")
    difference = case_events - events
    report.add(
        name, "history events, case - same-shape", difference, "events", "0", difference <= 0
    )
    report.add(name, "same-shape worker CPU per case", same_worker_ms, "ms")
    cpu_ratio = worker_ms / same_worker_ms
    report.add(
        name, "worker CPU per case / same-shape", cpu_ratio, "ratio", "<= 1.5", cpu_ratio <= 1.5
    )
