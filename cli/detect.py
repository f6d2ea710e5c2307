"""`keycase detect`: the sweep's schedule, and backtests of the detectors on past traffic.

    keycase detect schedule                          # create or update the Temporal Schedule
    keycase detect backtest --since 7d --policy tuned.toml

A backtest first counts any access-log rows the sweeps have not counted yet (the same
counting a sweep does; it raises nothing, and the next sweep looks at those windows as
usual), then runs every enabled detector over the past windows and prints what would have
been raised. Nothing is written to cases or intake.
"""

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config.settings import Settings
from domain.detection.hits import Hit
from domain.detection.policy import DETECTOR_NAMES, DetectionPolicy
from domain.policy import PolicyError, format_iso_duration, parse_iso_duration

# The store, Temporal and the activities are imported where they are used: every
# `keycase` command loads this module, and they would cost each of them ~0.6 s.

detect_app = typer.Typer(help="Detectors over the gateway's access log.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
_SHORT = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAX_KEYS_SHOWN = 8


def parse_since(text: str) -> timedelta:
    """`7d`, `12h`, `30m` or an ISO-8601 duration such as `P7D`."""
    short = _SHORT.match(text)
    if short:
        return timedelta(**{_UNITS[short.group(2)]: int(short.group(1))})
    return parse_iso_duration(text)


@detect_app.command("schedule")
def schedule() -> None:
    """Create the detection sweep's Temporal Schedule, or update its interval."""
    settings = Settings()
    policy = _policy(settings.policy_file)
    every = policy.detection.every
    created = asyncio.run(_ensure(settings, every))
    console.print(f"sweep schedule {'created' if created else 'updated'}: every {every}")


async def _ensure(settings: Settings, every: timedelta) -> bool:
    from temporalio.client import Client

    from payloads.converter import data_converter
    from worker.sweep_schedule import ensure_sweep_schedule

    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
    return await ensure_sweep_schedule(client, settings.task_queue, every)


@detect_app.command("backtest")
def backtest(
    since: Annotated[str, typer.Option(help="how far back: 7d, 12h, 30m or P7D")] = "7d",
    policy: Annotated[
        Path | None, typer.Option(help="policy file to try (default: KEYCASE_POLICY_FILE)")
    ] = None,
) -> None:
    """Run the detectors over past traffic and print what they would raise (raises nothing)."""
    try:
        back = parse_since(since)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None
    settings = Settings()
    detection = _policy(policy or settings.policy_file)
    now = datetime.now(UTC)
    result = asyncio.run(run_backtest(settings.effective_database_url, detection, now - back, now))
    console.print(summary_table(detection, result, since))
    if result.hits:
        console.print(hits_table(result.hits))


@dataclass
class Backtest:
    counted: int = 0
    hits: list[Hit] = field(default_factory=list)


async def run_backtest(
    database_url: str, policy: DetectionPolicy, first: datetime, last: datetime
) -> Backtest:
    """Count what the sweeps have not, then every enabled detector over [first, last]."""
    from activities.detection_runs import chunks, detect, windows_of
    from store.detection import count_new_rows
    from store.engine import open_store

    store = open_store(database_url)
    result = Backtest()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
            counting = bar.add_task("counting new access-log rows", total=None)
            settled = last - policy.detection.settle
            while True:
                counted = await store.bulk(
                    lambda c: count_new_rows(
                        c,
                        max_rows=policy.detection.max_rows_per_ingest,
                        settled_before=settled,
                        now=last,
                    )
                )
                result.counted += counted.rows
                bar.advance(counting, counted.rows)
                if counted.caught_up:
                    break
            for name in DETECTOR_NAMES:
                pieces = list(chunks(windows_of(policy, name, first, last)))
                task = bar.add_task(name, total=len(pieces))
                for piece in pieces:
                    found = await store.scan(
                        partial(detect, policy=policy, name=name, windows=piece)
                    )
                    result.hits += [h for h in found if h.window_end > first]
                    bar.advance(task)
    finally:
        await store.close()
    return result


def summary_table(policy: DetectionPolicy, result: Backtest, since: str) -> Table:
    """Hits per detector, with its thresholds and the keys it hit."""
    table = Table(title=f"backtest over the last {since} ({result.counted:,} new rows counted)")
    for column in ("detector", "version", "window", "thresholds", "severity", "hits", "keys"):
        table.add_column(column, justify="right" if column == "hits" else "left")
    for name in DETECTOR_NAMES:
        settings = policy.detector(name)
        mine = [h for h in result.hits if h.detector == name]
        keys = sorted({h.key_id for h in mine})
        shown = ", ".join(keys[:MAX_KEYS_SHOWN]) + (
            f" (+{len(keys) - MAX_KEYS_SHOWN} more)" if len(keys) > MAX_KEYS_SHOWN else ""
        )
        thresholds = {
            k: v
            for k, v in settings.model_dump().items()
            if k not in ("version", "enabled", "window", "severity")
        }
        table.add_row(
            name if settings.enabled else f"{name} (off)",
            str(settings.version),
            format_iso_duration(settings.window),
            ", ".join(f"{k}={v}" for k, v in thresholds.items()),
            settings.severity.value,
            str(len(mine)),
            shown or "-",
        )
    return table


def hits_table(hits: list[Hit], limit: int = 50) -> Table:
    """The hits themselves, oldest first (at most `limit`)."""
    ordered = sorted(hits, key=lambda h: (h.window_start, h.detector, h.key_id))
    table = Table(title=f"hits ({min(limit, len(hits))} of {len(hits)})")
    for column in ("window start", "detector", "key", "counts", "rows"):
        table.add_column(column)
    for hit in ordered[:limit]:
        counts = ", ".join(f"{k}={v}" for k, v in hit.evidence.get("counts", {}).items())
        rows = f"{hit.evidence['first_row']['id']}..{hit.evidence['last_row']['id']}"
        table.add_row(f"{hit.window_start:%Y-%m-%d %H:%M}Z", hit.detector, hit.key_id, counts, rows)
    return table


def _policy(path: Path | None) -> DetectionPolicy:
    from activities.policy import read_detection_policy

    try:
        return read_detection_policy(path)
    except PolicyError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
