"""Detection on the running stack: the gateway's p99 with and without sweeps, alert latency."""

import asyncio
import json
import time
from datetime import timedelta

from bench.figures import Report, percentile
from bench.loadgen import Connection, Request, open_loop
from bench.population import new_keys, register
from bench.stack import BenchStack
from domain.detection.sweep import SWEEP_SCHEDULE_ID
from domain.ids import TASK_QUEUE
from domain.policy import format_iso_duration
from worker.sweep_schedule import ensure_sweep_schedule

NETWORKS = [f"100.{64 + n}.{n}.1" for n in range(5)]  # five /24s: many_networks' default is 3


async def detection(
    stack: BenchStack, report: Report, bursts: int, seconds: float, every: timedelta
) -> None:
    """Authorize at 500/s before and while sweeps run; then lent keys until their cases open."""
    name = "detection"
    keys = new_keys("det", 50)
    await register(stack.api_url, stack.tokens["admin"], keys)

    def decide(n: int) -> Request:
        path = f"/v1/keys/{keys[n % 50].key_id}/authorize"
        return Request("POST", path, {"ip": f"198.51.100.{n % 250}", "permission": "trade"})

    gateway = stack.tokens["gateway"]
    await open_loop(stack.api_url, gateway, decide, 500, seconds)  # warm-up, not counted
    quiet = await open_loop(stack.api_url, gateway, decide, 500, seconds)
    await ensure_sweep_schedule(stack.temporal, TASK_QUEUE, every)
    try:
        busy = await open_loop(stack.api_url, gateway, decide, 500, seconds)
        p99 = [percentile(r.latencies, 99) * 1000 for r in (quiet, busy)]
        report.add(name, "authorize p99 at 500/s, no sweeps", p99[0], "ms")
        report.add(
            name, f"authorize p99 at 500/s, sweeps every {format_iso_duration(every)}", p99[1], "ms"
        )
        ratio = p99[1] / p99[0]
        report.add(name, "p99 with sweeps / without", ratio, "ratio", "<= 1.10", ratio <= 1.10)
        latencies = await _alert_latencies(stack, bursts)
        worst = percentile(latencies, 99)
        target = 2 * every.total_seconds()
        report.add(
            name, "abusive access -> case open, p99", worst, "s", f"<= {target:g}", worst <= target
        )
    finally:
        await stack.temporal.get_schedule_handle(SWEEP_SCHEDULE_ID).delete()


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
