"""What a case costs on the Temporal cluster: the expiry path, an alert flood, many open cases."""

import asyncio
import time

from sqlalchemy import Connection, func, select
from temporalio.api.enums.v1 import EventType

from bench.baseline import trivial_workflows_per_second
from bench.figures import Report
from bench.loadgen import Request, closed_loop
from bench.population import BenchKey, new_keys, register
from bench.same_shape_floor import same_shape_floor
from bench.stack import BenchStack, cpu_seconds, rss_mb
from domain.case import CaseState
from domain.ids import WORKFLOW_TYPE, case_workflow_id
from domain.search_attributes import CASE_STAGE, KEY_ID
from domain.stages import CaseStage
from store.models import AuditEntry
from tests.alert_bodies import alert_body

TASK_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def raise_alerts(
    stack: BenchStack, bodies: list[dict[str, object]], connections: int
) -> float:
    """POST every alert; returns the alerts accepted per second."""
    result = await closed_loop(
        stack.api_url,
        stack.tokens["surveillance"],
        lambda n: Request("POST", "/v1/alerts", bodies[n]),
        len(bodies),
        connections,
    )
    refused = {s: c for s, c in result.statuses.items() if s != 202}
    if refused:
        raise RuntimeError(f"alerts refused: {refused}")
    return result.per_second


def _cases_of(keys: list[BenchKey], condition: str) -> str:
    """A visibility query for the cases of a benchmark's keys (they share a prefix)."""
    prefix = keys[0].key_id.rsplit("-", 1)[0] + "-"
    return (
        f'WorkflowType="{WORKFLOW_TYPE}" AND {condition} AND {KEY_ID.name} STARTS_WITH "{prefix}"'
    )


async def case_cost(stack: BenchStack, report: Report, cases: int) -> None:
    """A burst of high-severity cases on the standard expiry path vs trivial workflows."""
    keys = new_keys("cost", cases)
    await register(stack.api_url, stack.tokens["admin"], keys)
    server = stack.pids["temporal server"]
    cpu = {name: cpu_seconds(pid) for name, pid in stack.pids.items()}
    started = time.perf_counter()
    await raise_alerts(stack, [alert_body(k, "high") for k in keys], connections=8)
    finals = await asyncio.gather(*(_final_state(stack, k) for k in keys))
    case_rate = cases / (time.perf_counter() - started)
    cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in stack.pids.items()}
    expired = sum(1 for s in finals if s.stage is CaseStage.EXPIRED)
    server_before = cpu_seconds(server)
    trivial = await trivial_workflows_per_second(stack.temporal, cases)
    trivial_server_ms = (cpu_seconds(server) - server_before) / cases * 1000
    name = "case cost"
    report.add(name, "expiry cases per second", case_rate, "cases/s")
    report.add(name, "trivial workflows per second (baseline)", trivial, "wf/s")
    ratio = case_rate / trivial
    report.add(name, "cases / trivial (reference: one task against eight)", ratio, "ratio")
    report.add(name, "cases ending EXPIRED", expired, f"of {cases}", "all", expired == cases)
    for process, seconds in cpu.items():
        report.add(name, f"{process} CPU per case", seconds / cases * 1000, "ms")
    report.add(name, "temporal server CPU per trivial workflow", trivial_server_ms, "ms")
    in_burst = await _history_size(stack, keys[0])
    worker_ms = next(s for p, s in cpu.items() if p.startswith("worker")) / cases * 1000
    await same_shape_floor(stack, report, cases, case_rate, in_burst[0], worker_ms)

    # In a burst, completions that arrive together share workflow tasks; a case alone on a
    # quiet server shares nothing, so it shows the most a case costs.
    [alone] = new_keys("cost-alone", 1)
    await register(stack.api_url, stack.tokens["admin"], [alone])
    await raise_alerts(stack, [alert_body(alone, "high")], connections=1)
    await _final_state(stack, alone)
    for label, key in (("in the burst", keys[0]), ("alone", alone)):
        events, tasks = await _history_size(stack, key)
        ok = events <= 50
        report.add(name, f"history events, one case {label}", events, "events", "<= 50", ok)
        report.add(name, f"workflow tasks, one case {label}", tasks, "tasks")


async def _history_size(stack: BenchStack, key: BenchKey) -> tuple[int, int]:
    """The events and workflow tasks in a case's history."""
    handle = stack.temporal.get_workflow_handle(case_workflow_id(key.key_id))
    events = (await handle.fetch_history()).events
    return len(events), sum(1 for e in events if e.event_type == TASK_COMPLETED)


async def _final_state(stack: BenchStack, key: BenchKey) -> CaseState:
    handle = stack.temporal.get_workflow_handle(case_workflow_id(key.key_id), result_type=CaseState)
    state: CaseState = await handle.result()
    return state


async def flood(stack: BenchStack, report: Report, alerts: int, keys: int) -> None:
    """Distinct alerts on few keys: all audited, one open case per key, histories bounded."""
    flooded = new_keys("flood", keys)
    await register(stack.api_url, stack.tokens["admin"], flooded)
    bodies = [alert_body(flooded[n % keys], "low") for n in range(alerts)]
    name = "flood"
    report.add(
        name, "alerts accepted per second", await raise_alerts(stack, bodies, 16), "alerts/s"
    )

    started, audited = time.perf_counter(), 0
    ids = [str(b["alert_id"]) for b in bodies]
    while time.perf_counter() - started < 600 and audited < alerts:
        await asyncio.sleep(0.5)
        audited = await _audited_alerts(stack, ids)
    report.add(name, "alerts in the audit log", audited, f"of {alerts}", "all", audited == alerts)
    report.add(name, "seconds from last accept to all audited", time.perf_counter() - started, "s")

    open_cases = (await stack.temporal.count_workflows(_cases_of(flooded, _RUNNING))).count
    report.add(name, "open cases", open_cases, f"for {keys} keys", f"<= {keys}", open_cases <= keys)
    lengths, runs = [], 0
    for key in flooded:
        handle = stack.temporal.get_workflow_handle(case_workflow_id(key.key_id))
        lengths.append((await handle.describe()).history_length)
        runs += (await handle.query("case", result_type=CaseState)).runs
    longest = max(lengths)
    report.add(name, "longest run history", longest, "events", "<= 10,240", longest <= 10_240)
    report.add(name, "runs in all (continue-as-new)", runs, "runs")


_RUNNING = 'ExecutionStatus="Running"'


async def _audited_alerts(stack: BenchStack, alert_ids: list[str]) -> int:
    event_ids = [f"alert:{alert_id}" for alert_id in alert_ids]
    return await stack.store.read(lambda c: _count_recorded(c, event_ids))


def _count_recorded(connection: Connection, event_ids: list[str]) -> int:
    total = 0
    for start in range(0, len(event_ids), 500):  # bounded IN lists
        chunk = event_ids[start : start + 500]
        query = select(func.count()).where(AuditEntry.event_id.in_(chunk))
        total += connection.execute(query).scalar_one()
    return total


async def scale(stack: BenchStack, report: Report, cases: int) -> None:
    """Many open cases at once: memory of worker and server, an officer's list query."""
    keys = new_keys("scale", cases)
    await register(stack.api_url, stack.tokens["admin"], keys)
    await raise_alerts(stack, [alert_body(k, "low") for k in keys], connections=16)
    monitoring = _cases_of(keys, f'{CASE_STAGE.name}="MONITORING"')
    started, held = time.perf_counter(), 0
    while time.perf_counter() - started < 1800 and held < cases:
        await asyncio.sleep(1)
        held = (await stack.temporal.count_workflows(monitoring)).count
    name = "scale"
    report.add(name, "open cases held", held, f"of {cases}", "all", held == cases)
    for process, pid in stack.pids.items():
        mb = rss_mb(pid)
        worker = process.startswith("worker")
        report.add(
            name,
            f"{process} RSS",
            mb,
            "MiB",
            "<= 500" if worker else "",
            mb <= 500 if worker else None,
        )

    listing = await closed_loop(
        stack.api_url,
        stack.tokens["officer"],
        lambda _: Request("GET", "/v1/cases?stage=MONITORING&limit=50"),
        5,
        1,
    )
    if set(listing.statuses) != {200}:
        raise RuntimeError(f"case list failed: {listing.statuses}")
    slowest = max(listing.latencies)
    report.add(name, "officer list by CaseStage (slowest of 5)", slowest, "s", "< 1", slowest < 1)
