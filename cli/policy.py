"""`keycase policy`: check a policy file, and dry-run it over the recorded cases.

    keycase policy check tuned.toml
    keycase policy dry-run tuned.toml --since 30d --exchange upbit

The dry-run reads the recorded cases from the store, replays each through the ladder under
the running policy (KEYCASE_POLICY_FILE) and under NEW (`domain.policy_replay`) and prints
what would change. It writes nothing and needs no Temporal.
"""

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cli.detect import parse_since
from config.settings import Settings
from domain.policy import LadderPolicy, PolicyError
from domain.policy_replay import CaseComparison, CaseHistory, Replay, StepShift, compare

policy_app = typer.Typer(help="The ladder policy file.", no_args_is_help=True)
console = Console(highlight=False, soft_wrap=True)
BAR_FROM_CASES = 200  # fewer cases replay in a blink: no bar
OUTCOMES = ("warned", "expired", "cleared", "restored", "dismissed", "open")


@policy_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="the policy file to validate")]) -> None:
    """Validate a policy file with exactly the errors the worker gives at start."""
    ladder = _read(file)
    exchanges = ", ".join(ladder.known_exchanges())
    console.print(f"policy {file}: version {ladder.version}, ok (exchanges: {exchanges})")


@policy_app.command("dry-run")
def dry_run(
    new: Annotated[Path, typer.Argument(help="the policy file to try")],
    since: Annotated[str, typer.Option(help="cases opened since: 30d, 12h or P30D")] = "30d",
    exchange: Annotated[str | None, typer.Option(help="only this exchange's cases")] = None,
    every_case: Annotated[bool, typer.Option("--all", help="list unchanged cases too")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
) -> None:
    """Replay the recorded cases under the running policy and NEW; print what changes."""
    try:
        back = parse_since(since)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None
    settings = Settings()
    running, tried = _read(settings.policy_file), _read(new)
    now = datetime.now(UTC)
    histories = asyncio.run(
        _histories(settings.effective_database_url, now - back, exchange, quiet=as_json)
    )
    with _bar(quiet=as_json or len(histories) < BAR_FROM_CASES) as bar:
        task = bar.add_task("replaying under both policies", total=len(histories))
        compared = []
        for history in histories:
            compared += compare([history], running, tried, now)
            bar.advance(task)
    if as_json:
        typer.echo(json.dumps(as_document(compared, running, tried), indent=2))
        return
    title = f"dry-run of {tried.version} against {running.version}: {len(compared)} case(s)"
    title += f" opened in the last {since}" + (f" on {exchange}" if exchange else "")
    shown = [c for c in compared if every_case or c.changed]
    if shown:
        console.print(cases_table(shown, title))
    else:
        console.print(title + (": nothing changes" if compared else ": no cases"))
    console.print(totals_table(compared))


async def _histories(
    database_url: str, opened_since: datetime, exchange: str | None, quiet: bool
) -> list[CaseHistory]:
    from store.engine import open_store
    from store.reports import case_histories, count_cases

    store = open_store(database_url)
    try:
        total = await store.scan(lambda c: count_cases(c, opened_since))
        with _bar(quiet or total < BAR_FROM_CASES) as bar:
            task = bar.add_task("reading recorded cases", total=total)
            return await store.scan(
                lambda c: case_histories(c, opened_since, exchange, lambda n: bar.advance(task, n))
            )
    finally:
        await store.close()


def _bar(quiet: bool) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console, transient=True, disable=quiet)


def _read(path: Path | None) -> LadderPolicy:
    """The file's ladder, as the worker reads it at start (both halves validated)."""
    from activities.policy import read_detection_policy, read_policy_file

    try:
        ladder = read_policy_file(path)
        read_detection_policy(path)
    except PolicyError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    return ladder


def cases_table(compared: list[CaseComparison], title: str) -> Table:
    """One row per case: outcome now and with NEW, step shifts, notices."""
    table = Table(title=title)
    for column in ("case", "exchange", "recorded", "now", "with NEW", "steps with NEW", "notices"):
        table.add_column(column)
    for case in compared:
        recorded = case.history.recorded_stage
        table.add_row(
            case.history.case_id,
            case.history.exchange,
            recorded.value.lower() if recorded else "open",
            _label(case.now),
            _label(case.new),
            "\n".join(_shift(s) for s in case.shifts()) or "same",
            f"{_notices(case.now)} → {_notices(case.new)}",
        )
    return table


def totals_table(compared: list[CaseComparison]) -> Table:
    """Cases by outcome and notices by kind, now and with NEW."""
    now, new = _counts([c.now for c in compared]), _counts([c.new for c in compared])
    table = Table(title=f"in total ({sum(1 for c in compared if c.changed)} case(s) change)")
    for column in ("", "now", "with NEW", "difference"):
        table.add_column(column, justify="left" if not column else "right")
    for name in sorted(set(now) | set(new), key=_row_order):
        table.add_row(name, str(now[name]), str(new[name]), f"{new[name] - now[name]:+d}")
    return table


def as_document(
    compared: list[CaseComparison], running: LadderPolicy, tried: LadderPolicy
) -> dict[str, Any]:
    """The dry-run as JSON: every case and the totals."""
    return {
        "running": running.version,
        "new": tried.version,
        "cases": [
            {
                "case_id": c.history.case_id,
                "exchange": c.history.exchange,
                "changed": c.changed,
                "now": _replay_document(c.now),
                "new": _replay_document(c.new),
                "shifts": {
                    s.stage.value: s.shift.total_seconds() if s.shift is not None else None
                    for s in c.shifts()
                },
            }
            for c in compared
        ],
        "totals": {
            "now": dict(_counts([c.now for c in compared])),
            "new": dict(_counts([c.new for c in compared])),
        },
    }


def _replay_document(replay: Replay) -> dict[str, Any]:
    return {
        "outcome": replay.outcome,
        "warned": replay.warned,
        "steps": {stage.value: at.isoformat() for stage, at in replay.steps.items()},
        "notices": [kind.value for _, kind in replay.notices],
        "not_applied": replay.not_applied,
    }


def _counts(replays: list[Replay]) -> Counter[str]:
    counts: Counter[str] = Counter({name: 0 for name in OUTCOMES})
    for replay in replays:
        counts["warned"] += replay.warned
        counts[replay.outcome if not replay.stage.is_open else "open"] += 1
        for _, kind in replay.notices:
            counts[f"notice: {kind.value}"] += 1
    return counts


def _row_order(name: str) -> tuple[int, str]:
    return (OUTCOMES.index(name), "") if name in OUTCOMES else (len(OUTCOMES), name)


def _label(replay: Replay) -> str:
    warned = "warned" if replay.warned else "not warned"
    late = f", {replay.not_applied} input(s) no longer apply" if replay.not_applied else ""
    return f"{replay.outcome} ({warned}{late})"


def _shift(step: StepShift) -> str:
    if step.now is None:
        return f"{step.stage.value}: only with NEW"
    if step.new is None:
        return f"{step.stage.value}: not with NEW"
    assert step.shift is not None
    direction = "later" if step.shift > timedelta(0) else "earlier"
    return f"{step.stage.value}: {_span(abs(step.shift))} {direction}"


def _span(value: timedelta) -> str:
    days, rest = divmod(int(value.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return " ".join(parts) or "0s"


def _notices(replay: Replay) -> str:
    kinds = Counter(kind.value for _, kind in replay.notices)
    return ", ".join(f"{k} x{n}" if n > 1 else k for k, n in kinds.items()) or "none"
