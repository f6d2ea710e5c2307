"""What the payload codec costs: worker CPU per expiry case and the intake rate, off vs on.

The codec is a property of every client and worker, so it cannot be switched within one
stack: the same measurements run on two fresh stacks one after the other, in this process
on this machine, the first without encryption and the second with it, and a third column
gives on / off. One run each: on a loaded machine the ratio carries its noise.
"""

import asyncio
import time
from pathlib import Path

from bench.cases import raise_alerts
from bench.figures import Report
from bench.population import BenchKey, new_keys, register
from bench.processes import bench_stack
from bench.stack import BenchStack, cpu_seconds
from domain.case import CaseState
from domain.ids import case_workflow_id
from domain.stages import CaseStage
from tests.alert_bodies import alert_body

NAME = "codec"
RUNS = {"codec off": False, "codec on": True}


async def compare(
    cases: int,
    intake_alerts: int,
    intake_keys: int,
    data_dir: Path,
    policy: Path,
    database_url: str | None = None,
) -> dict[str, Report]:
    """The figures with the codec off, on, and their ratio (on / off), by column."""
    reports: dict[str, Report] = {}
    for label, encryption in RUNS.items():
        print(f"== codec: {label}", flush=True)
        folder = data_dir / label.replace(" ", "-")
        folder.mkdir()
        report = Report()
        async with bench_stack(folder, policy, database_url, encryption) as stack:
            await _expiry_cost(stack, report, label, cases)
            await _intake_rate(stack, report, label, intake_alerts, intake_keys)
        reports[label] = report
    reports["on / off"] = _ratios(reports["codec off"], reports["codec on"])
    return reports


async def _expiry_cost(stack: BenchStack, report: Report, label: str, cases: int) -> None:
    keys = new_keys(f"codec-{label.split()[-1]}", cases)
    await register(stack.api_url, stack.tokens["admin"], keys)
    worker = next(pid for name, pid in stack.pids.items() if name.startswith("worker"))
    pids = {"worker": worker, "api": stack.pids["api"]}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    started = time.perf_counter()
    await raise_alerts(stack, [alert_body(k, "high") for k in keys], connections=8)
    finals = await asyncio.gather(*(_final_state(stack, k) for k in keys))
    rate = cases / (time.perf_counter() - started)
    expired = sum(1 for state in finals if state.stage is CaseStage.EXPIRED)
    for name, pid in pids.items():
        spent = (cpu_seconds(pid) - before[name]) / cases * 1000
        report.add(NAME, f"{name} CPU per expiry case", spent, "ms")
    report.add(NAME, "expiry cases per second", rate, "cases/s")
    report.add(NAME, "cases ending EXPIRED", expired, f"of {cases}", "all", expired == cases)


async def _intake_rate(
    stack: BenchStack, report: Report, label: str, alerts: int, keys: int
) -> None:
    pool = new_keys(f"codec-intake-{label.split()[-1]}", keys)
    await register(stack.api_url, stack.tokens["admin"], pool)
    bodies = [alert_body(pool[n % keys], "low") for n in range(alerts)]
    rate = await raise_alerts(stack, bodies, connections=16)
    report.add(NAME, "POST /v1/alerts per second", rate, "alerts/s")


async def _final_state(stack: BenchStack, key: BenchKey) -> CaseState:
    handle = stack.temporal.get_workflow_handle(case_workflow_id(key.key_id), result_type=CaseState)
    state: CaseState = await handle.result()
    return state


def _ratios(off: Report, on: Report) -> Report:
    """Each figure with the codec on divided by the same figure with it off."""
    ratios = Report()
    plain = {(f.scenario, f.name): f for f in off.figures}
    for figure in on.figures:
        base = plain.get((figure.scenario, figure.name))
        if base is None or base.value == 0 or figure.unit.startswith("of "):
            continue
        ratios.add(figure.scenario, figure.name, figure.value / base.value, "on / off")
    return ratios
