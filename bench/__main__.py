"""`python -m bench [--size smoke|full] [--only NAME ...]`: keycase's benchmarks.

`--only codec` compares the payload codec off and on (`bench.codec`: two stacks of its own).

For each store, starts the local stack as separate processes (Temporal dev server, one
worker, the API; notices through the real SDKs to local fake providers) on free ports in a
temporary folder and runs the scenarios in order; then prints every figure next to its
baseline. With a PostgreSQL URL (--database-url or KEYCASE_BENCH_DATABASE_URL) the suite
runs on SQLite, then on PostgreSQL, and the table has a column for each.
"""

import argparse
import asyncio
import os
import platform
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench import cases, codec, detection_stack, faults, hostile, http_paths, replicas, rings
from bench.figures import Report, print_side_by_side
from bench.processes import bench_stack
from bench.stack import BenchStack
from config.policy_file import read_detection_policy

POLICY = Path(__file__).with_name("policy.toml")


@dataclass(frozen=True)
class Size:
    cases: int
    act_alerts: int
    intake_alerts: int
    intake_keys: int
    gateway_requests: int
    gateway_seconds: float
    flood_alerts: int
    flood_keys: int
    scale_cases: int
    hostile_seconds: float
    fault_cases: int
    fault_kills: int
    lent_keys: int  # detection: abusive bursts timed from access to case
    replica_keys: int
    act_burst: int
    ring_members: int
    detection_rounds: int  # pairs of phases without and with sweeps, gateway_seconds each


SIZES = {
    "smoke": Size(10, 10, 200, 20, 300, 2, 200, 5, 20, 1, 6, 3, 3, 10, 20, 10, 1),
    "full": Size(
        300, 300, 3000, 300, 5000, 10, 10_000, 100, 10_000, 10, 90, 8, 50, 200, 200, 100, 3
    ),
}
SWEEP_EVERY = read_detection_policy(POLICY).detection.every

Scenario = Callable[[BenchStack, Report, Size], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {
    "case-cost": lambda s, r, z: cases.case_cost(s, r, z.cases),
    "time-to-act": lambda s, r, z: http_paths.time_to_act(s, r, z.act_alerts),
    "time-to-act-loaded": lambda s, r, z: http_paths.time_to_act(
        s, r, z.act_alerts, burst=z.act_burst
    ),
    "intake": lambda s, r, z: http_paths.intake(s, r, z.intake_alerts, z.intake_keys),
    "gateway": lambda s, r, z: http_paths.gateway(s, r, z.gateway_requests, z.gateway_seconds),
    "gateway-replica": lambda s, r, z: replicas.replicas(s, r, z.replica_keys),
    "flood": lambda s, r, z: cases.flood(s, r, z.flood_alerts, z.flood_keys),
    "scale": lambda s, r, z: cases.scale(s, r, z.scale_cases),
    "hostile": lambda s, r, z: hostile.callback_flood(s, r, z.hostile_seconds),
    # On a stack of its own (it kills processes); tests/e2e/test_faults.py runs it small.
    "faults": lambda s, r, z: faults.scenario(r, z.fault_cases, z.fault_kills),
    "detection": lambda s, r, z: detection_stack.detection(
        s, r, z.lent_keys, z.gateway_seconds, SWEEP_EVERY, z.detection_rounds
    ),
    "rings": lambda s, r, z: rings.fan_out(s, r, z.ring_members),
}


async def run(
    size: Size,
    only: list[str],
    data_dir: Path,
    database_url: str | None = None,
    encryption: bool = True,
) -> Report:
    """Run the chosen scenarios against one freshly started stack."""
    report = Report()
    async with bench_stack(data_dir, POLICY, database_url, encryption) as stack:
        for name, scenario in SCENARIOS.items():
            if not only or name in only:
                print(f"== {name}", flush=True)
                await scenario(stack, report, size)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--only", nargs="*", choices=[*SCENARIOS, codec.NAME], default=[])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("KEYCASE_BENCH_DATABASE_URL"),
        help="a PostgreSQL store (postgresql+psycopg://...): the suite runs on SQLite, then on it",
    )
    parser.add_argument(
        "--codec",
        choices=("on", "off"),
        default="on",
        help="payload encryption (off only to compare what it costs)",
    )
    args = parser.parse_args(argv)
    stores = {"SQLite": None}
    if args.database_url:
        stores["PostgreSQL"] = args.database_url
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if codec.NAME in args.only:
        _compare_codec(SIZES[args.size], stores, f"{args.size} on {machine}")
        args.only = [name for name in args.only if name != codec.NAME]
        if not args.only:
            return
    reports: dict[str, Report] = {}
    for store, url in stores.items():
        print(f"=== {store} store", flush=True)
        with tempfile.TemporaryDirectory(prefix="keycase-bench-") as tmp:
            reports[store] = asyncio.run(
                run(SIZES[args.size], args.only, Path(tmp), url, args.codec == "on")
            )
    title = (
        f"keycase benchmarks ({args.size}, {' and '.join(stores)}, codec {args.codec}) on {machine}"
    )
    print_side_by_side(title, reports)


def _compare_codec(size: Size, stores: Mapping[str, str | None], where: str) -> None:
    for store, url in stores.items():
        print(f"=== {store} store: codec off, then on", flush=True)
        with tempfile.TemporaryDirectory(prefix="keycase-bench-codec-") as tmp:
            reports = asyncio.run(
                codec.compare(
                    size.cases, size.intake_alerts, size.intake_keys, Path(tmp), POLICY, url
                )
            )
        print_side_by_side(f"payload codec off vs on ({store} store, {where})", reports)


if __name__ == "__main__":
    main()
