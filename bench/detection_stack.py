"""Detection on the running stack: the gateway's p99 with and without sweeps, alert latency."""

import asyncio
import json
import time
from datetime import timedelta
from statistics import median

from temporalio.client import ScheduleHandle

from bench.figures import Report, percentile
from bench.loadgen import Connection, Request, open_loop
from bench.population import new_keys, register
from bench.stack import BenchStack, cpu_seconds
from domain.detection.sweep import SWEEP_SCHEDULE_ID
from domain.ids import TASK_QUEUE
from domain.policy import format_iso_duration
from worker.sweep_schedule import ensure_sweep_schedule

NETWORKS = [f"100.{64 + n}.{n}.1" for n in range(5)]  # five /24s: many_networks' default is 3


async def detection(
    stack: BenchStack,
    report: Report,
    bursts: int,
    seconds: float,
    every: timedelta,
    rounds: int,
) -> None:
    """Authorize at 500/s in phases without and with sweeps; then lent keys until cases open.

    The phases alternate (`rounds` pairs, the Schedule paused and unpaused between them) and
    each pair gives a ratio: on a shared machine other work drifts over a minute, so the
    median of pairs taken seconds apart says more than one long phase of each. A busy phase
    starts once a triggered sweep has counted what the quiet phase logged: it measures
    steady sweeps, not the catch-up after a pause."""
    name = "detection"
    keys = new_keys("det", 50)
    await register(stack.api_url, stack.tokens["admin"], keys)

    def decide(n: int) -> Request:
        path = f"/v1/keys/{keys[n % 50].key_id}/authorize"
        return Request("POST", path, {"ip": f"198.51.100.{n % 250}", "permission": "trade"})

    gateway = stack.tokens["gateway"]
    await open_loop(stack.api_url, gateway, decide, 500, seconds)  # warm-up, not counted
    await ensure_sweep_schedule(stack.temporal, TASK_QUEUE, every)
    schedule = stack.temporal.get_schedule_handle(SWEEP_SCHEDULE_ID)
    sweepers = [pid for process, pid in stack.pids.items() if process != "api"]
    try:
        quiet, busy, ratios, cores = [], [], [], []
        for _ in range(rounds):
            await schedule.pause(note="bench: a phase without sweeps")
            await _sweeps_done(schedule)
            began = sum(cpu_seconds(pid) for pid in sweepers)
            without = await open_loop(stack.api_url, gateway, decide, 500, seconds)
            idle = sum(cpu_seconds(pid) for pid in sweepers) - began
            await schedule.unpause(note="bench: a phase with sweeps")
            await _sweeps_done(schedule, trigger=True)
            began = sum(cpu_seconds(pid) for pid in sweepers)
            with_sweeps = await open_loop(stack.api_url, gateway, decide, 500, seconds)
            used = sum(cpu_seconds(pid) for pid in sweepers) - began
            p99 = [percentile(r.latencies, 99) * 1000 for r in (without, with_sweeps)]
            quiet.append(p99[0])
            busy.append(p99[1])
            ratios.append(p99[1] / p99[0])
            cores.append(max(0.0, used - idle) / seconds * 100)
            print(
                f"  {name}: pair {len(ratios)}: p99 {p99[0]:.2f} ms without sweeps,",
                f"{p99[1]:.2f} ms with",
            )
        report.add(name, "authorize p99 at 500/s, no sweeps", median(quiet), "ms")
        report.add(
            name,
            f"authorize p99 at 500/s, sweeps every {format_iso_duration(every)}",
            median(busy),
            "ms",
        )
        ratio = median(ratios)
        report.add(
            name,
            f"p99 with sweeps / without, median of {rounds} pairs",
            ratio,
            "ratio",
            "<= 1.10",
            ratio <= 1.10,
        )
        report.add(name, "sweeps' CPU (server + worker), % of one core", median(cores), "%")
        latencies = await _alert_latencies(stack, bursts)
        worst = percentile(latencies, 99)
        target = 2 * every.total_seconds()
        report.add(
            name, "abusive access -> case open, p99", worst, "s", f"<= {target:g}", worst <= target
        )
    finally:
        await schedule.delete()


async def _sweeps_done(schedule: ScheduleHandle, trigger: bool = False) -> None:
    """Wait until no sweep runs (after starting one first, with `trigger`)."""
    taken = (await schedule.describe()).info.num_actions
    if trigger:
        await schedule.trigger()
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        info = (await schedule.describe()).info
        if not info.running_actions and (not trigger or info.num_actions > taken):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the detection sweep did not finish within 60 s")


async def _alert_latencies(stack: BenchStack, bursts: int) -> list[float]:
    """Seconds from each lent key's last request to its case being listed."""
    keys = new_keys("lent", bursts)
    await register(stack.api_url, stack.tokens["admin"], keys)
    gateway = Connection(stack.api_url, stack.tokens["gateway"])
    officer = Connection(stack.api_url, stack.tokens["officer"])
    sent: dict[str, float] = {}
    try:
        for key in keys:
            for ip in NETWORKS:
                body = {"ip": ip, "permission": "trade"}
                await gateway.request(Request("POST", f"/v1/keys/{key.key_id}/authorize", body))
            sent[key.key_id] = time.perf_counter()
        opened: dict[str, float] = {}
        deadline = time.perf_counter() + 120
        while len(opened) < len(keys) and time.perf_counter() < deadline:
            for key_id in set(sent) - set(opened):
                status, page = await officer.request(Request("GET", f"/v1/cases?key_id={key_id}"))
                if status == 200 and json.loads(page)["cases"]:
                    opened[key_id] = time.perf_counter()
            await asyncio.sleep(0.1)
    finally:
        await gateway.close()
        await officer.close()
    if len(opened) < len(keys):
        raise RuntimeError(f"only {len(opened)} of {len(keys)} lent keys got a case")
    return [opened[k] - sent[k] for k in sent]
