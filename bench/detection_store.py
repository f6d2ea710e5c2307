"""Detection on the store, in process: counting, one-minute sweeps and 7-day backtests.

    python -m bench.detection_store                      # full: 1,000,000 rows, 5,000/s minute
    python -m bench.detection_store --rows 20000 --rate 100 --keys 200    # smoke size
    KEYCASE_TEST_POSTGRES_URL=postgresql+psycopg://... python -m bench.detection_store

SQLite in a temporary file, and PostgreSQL in a throw-away schema when the variable is set.
Each figure is printed beside a bare `SELECT count(*)` over the same rows. `--engine polars`
also times Polars doing the counting step (rows fetched out of the store, grouped in Polars)
where the store's own `INSERT … SELECT … GROUP BY` does it otherwise.
"""

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, func, select, text

from activities.detection_runs import chunks, detect, windows_of
from bench.engines import polars_grouping, sql_grouping
from bench.figures import Report
from bench.traffic import load_rows, population, register_population, rows
from domain.detection.policy import DETECTOR_NAMES, DetectionPolicy
from domain.detection.windows import EPOCH
from store.detection import KeyTallyRow, OriginTallyRow, count_new_rows, finish_span, pending_span
from store.migrate import sync_url, upgrade
from store.models import AccessLogEntry
from tests.store.databases import drop_postgres_schema, postgres_schema

T = TypeVar("T")
POLICY = DetectionPolicy()
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Size:
    rows: int  # access-log rows over the backtest's seven days
    rate: int  # requests per second in the one-minute sweep
    keys: int


SIZES = {"smoke": Size(20_000, 100, 200), "full": Size(1_000_000, 5_000, 5_000)}


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _count_all(engine: Engine, now: datetime) -> int:
    counted = 0
    while True:
        with engine.begin() as c:
            done = count_new_rows(c, max_rows=200_000, settled_before=now, now=now)
        counted += done.rows
        if done.caught_up:
            return counted


def _detect(c: Connection, first: datetime, last: datetime) -> dict[str, int]:
    hits: dict[str, int] = {}
    for name in DETECTOR_NAMES:
        found = []
        for piece in chunks(windows_of(POLICY, name, first, last)):
            found += detect(c, POLICY, name, piece)
        hits[name] = len(found)
    return hits


def _disk(engine: Engine, path: Path | None) -> float:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with engine.connect() as c:
        size = c.execute(
            text(
                "SELECT pg_total_relation_size('access_log') + "
                "pg_total_relation_size('access_key_tallies') + "
                "pg_total_relation_size('access_origin_tallies')"
            )
        ).scalar()
    return float(size or 0)


def bench(
    url: str, sqlite_path: Path | None, size: Size, report: Report, engines: list[str]
) -> None:
    store = "SQLite" if sqlite_path else "PostgreSQL"
    engine = create_engine(sync_url(url))
    # On a boundary of the longest window's slices (half the window; so also of every
    # ten-minute bucket, which the minute of traffic fills one of): the synthetic week starts
    # with whole slices, where a popular client met by few accounts yet would look like a ring.
    grid = max(POLICY.detector(n).window for n in DETECTOR_NAMES) / 2
    now = EPOCH + (datetime.now(UTC) - EPOCH) // grid * grid
    first = now - 7 * DAY
    people = population(size.keys, first + 3 * DAY)
    register_population(engine, people, now)
    before = _disk(engine, sqlite_path)
    loaded, seconds = timed(lambda: load_rows(engine, rows(people, first, 7 * DAY, size.rows)))
    print(f"  {store}: {loaded:,} rows loaded in {seconds:.1f}s")
    name = f"detection ({store})"

    with engine.connect() as c:
        _, baseline = timed(
            lambda: c.execute(select(func.count()).select_from(AccessLogEntry)).scalar()
        )
    report.add(name, f"SELECT count(*) over {loaded:,} rows (baseline)", baseline, "s")
    counted, counting = timed(lambda: _count_all(engine, now))
    report.add(name, "backtest: counting 7 days into tallies", counting, "s")
    with engine.connect() as c:
        hits, detecting = timed(lambda: _detect(c, first, now))
        tallies = sum(
            c.execute(select(func.count()).select_from(m)).scalar() or 0
            for m in (KeyTallyRow, OriginTallyRow)
        )
    report.add(name, "backtest: detectors over 7 days", detecting, "s")
    total = counting + detecting
    report.add(name, "7-day backtest, total", total, "s", "<= 60", total <= 60)
    report.add(name, "backtest hits (all detectors)", sum(hits.values()), "hits")
    report.add(name, "tally rows per 1,000 log rows (7 days)", 1000 * tallies / counted, "rows")
    disk = _disk(engine, sqlite_path) - before
    report.add(name, "disk per access-log row (7 days, log + tallies)", disk / loaded, "bytes")
    with engine.begin() as c:
        span = pending_span(c)
        assert span is not None
        finish_span(c, span, now)

    # One minute of traffic at `rate` requests per second, then one sweep's store work.
    disk_before_minute = _disk(engine, sqlite_path)
    minute = load_rows(engine, rows(people, now, timedelta(minutes=1), size.rate * 60, seed=12))
    later = now + timedelta(minutes=2)

    def sweep() -> dict[str, int]:
        _count_all(engine, later)
        with engine.connect() as c:
            pending = pending_span(c)
            assert pending is not None
            return _detect(c, pending.first, pending.last)

    _, swept = timed(sweep)
    report.add(
        name,
        f"one-minute sweep ({minute:,} rows at {size.rate:,}/s)",
        swept,
        "s",
        "<= 5",
        swept <= 5,
    )
    with engine.connect() as c:
        grown = (
            sum(
                c.execute(select(func.count()).select_from(m)).scalar() or 0
                for m in (KeyTallyRow, OriginTallyRow)
            )
            - tallies
        )
    report.add(
        name, f"tally rows per 1,000 log rows at {size.rate:,}/s", 1000 * grown / minute, "rows"
    )
    disk = _disk(engine, sqlite_path) - disk_before_minute
    report.add(
        name, f"disk per access-log row at {size.rate:,}/s (log + tallies)", disk / minute, "bytes"
    )
    if "polars" in engines:
        # Grouping alone, both ways (nothing written back), then the store's whole step.
        everything = loaded + minute
        _, seconds = polars_grouping(engine)
        report.add(name, "grouping: Polars, rows fetched out", everything / seconds, "rows/s")
        _, seconds = timed(lambda: sql_grouping(engine))
        report.add(name, "grouping: store SQL in place", everything / seconds, "rows/s")
        report.add(name, "counting: store SQL, tallies written", counted / counting, "rows/s")
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.detection_store", description=__doc__)
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--rate", type=int)
    parser.add_argument("--keys", type=int)
    parser.add_argument("--engine", action="append", default=[], choices=["polars"])
    args = parser.parse_args(argv)
    base = SIZES[args.size]
    size = Size(args.rows or base.rows, args.rate or base.rate, args.keys or base.keys)
    report = run(size, args.engine)
    report.print(f"keycase detection on the store ({size})")


def run(size: Size, engines: list[str]) -> Report:
    """Every backend available: SQLite always, PostgreSQL when KEYCASE_TEST_POSTGRES_URL is set."""
    report = Report()
    with tempfile.TemporaryDirectory(prefix="keycase-detect-bench-") as tmp:
        path = Path(tmp) / "keycase.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        bench(url, path, size, report, engines)
    postgres = os.environ.get("KEYCASE_TEST_POSTGRES_URL")
    if postgres:
        schema, url = postgres_schema(postgres)
        try:
            upgrade(url)
            bench(url, None, size, report, engines)
        finally:
            drop_postgres_schema(postgres, schema)
    return report


if __name__ == "__main__":
    main()
