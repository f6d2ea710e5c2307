"""`python -m bench.reports [--rows 5000] [--cases 10000]`: how long reports take to make.

Needs only a store (no Temporal, no API): a case of `--rows` audit rows is seeded and its
pack made in every format; then a month of `--cases` cases and its monthly report. Each
figure is wall time from the store to the finished bytes; "gather" is the store reads
(with the chain verified whole and the head anchored), the rest is rendering. With a
PostgreSQL URL (--database-url or KEYCASE_BENCH_DATABASE_URL) both stores are measured.
"""

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.figures import Report, print_side_by_side
from bench.report_data import long_case, month_of_cases, seed_cases
from reports.case_report import gather_case_pack, render_case
from reports.formats import ReportFormat
from reports.monthly_report import gather_monthly, render_monthly
from store.engine import open_store
from store.migrate import upgrade
from store.port import Store

NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


async def _case_pack(store: Store, folder: Path, rows: int, report: Report) -> None:
    spec = long_case(rows)
    await seed_cases(store, [spec], NOW)
    scenario = f"case pack, {rows:,} rows"
    started = time.perf_counter()
    pack = await gather_case_pack(store, KEY, folder, spec.case_id, "ko", NOW)
    gathered = time.perf_counter()
    report.add(scenario, "gather (store reads, verify, anchor)", gathered - started, "s")
    for fmt in (ReportFormat.PDF, ReportFormat.HTML, ReportFormat.JSON):
        begun = time.perf_counter()
        content = render_case(pack, fmt).content
        report.add(scenario, f"render {fmt.value}", time.perf_counter() - begun, "s")
        report.add(scenario, f"{fmt.value} size", len(content) / 1e6, "MB")


async def _monthly(store: Store, folder: Path, cases: int, report: Report) -> None:
    await seed_cases(store, month_of_cases(cases), NOW, batch=500)
    scenario = f"monthly, {cases:,} cases"
    started = time.perf_counter()
    figures = await gather_monthly(store, KEY, folder, "2026-11", NOW, langs=("ko",))
    report.add(
        scenario, "gather (store reads, figures, verify)", time.perf_counter() - started, "s"
    )
    for fmt in ReportFormat:
        begun = time.perf_counter()
        render_monthly(figures["ko"], fmt)
        report.add(scenario, f"render {fmt.value}", time.perf_counter() - begun, "s")


async def run(url: str, folder: Path, rows: int, cases: int) -> Report:
    await asyncio.to_thread(upgrade, url)
    report = Report()
    store = open_store(url)
    try:
        await _case_pack(store, folder, rows, report)
        await _monthly(store, folder, cases, report)
    finally:
        await store.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("KEYCASE_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    reports: dict[str, Report] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("SQLite")
        sqlite = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        reports["sqlite"] = asyncio.run(run(sqlite, folder, args.rows, args.cases))
        if args.database_url:
            print("PostgreSQL")
            reports["postgresql"] = asyncio.run(
                run(args.database_url, folder, args.rows, args.cases)
            )
    print_side_by_side("keycase reports", reports)


if __name__ == "__main__":
    main()
