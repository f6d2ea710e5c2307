"""`keycase report …`: case packs and monthly reports, read from the store itself.

Like `keycase audit verify --anchors`, these open the store named by the settings and the
anchor signing key, so they need neither the API nor Temporal (nor the case's run).
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.settings import Settings
from reports.fonts import FontMissing
from reports.formats import RenderedReport, ReportFormat

report_app = typer.Typer(help="Case packs and monthly reports for regulators and auditors.")
console = Console(highlight=False, soft_wrap=True)

LangOption = Annotated[str, typer.Option("--lang", help="ko (default) or en")]
OutOption = Annotated[Path, typer.Option("--out", help="folder to write into")]


def _check_lang(lang: str) -> str:
    if lang not in ("ko", "en"):
        raise typer.BadParameter("ko or en", param_hint="--lang")
    return lang


def _write(report: RenderedReport, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / report.filename
    path.write_bytes(report.content)
    return path


async def _case(settings: Settings, case_id: str, lang: str, fmt: ReportFormat) -> RenderedReport:
    # Imported here: fpdf2 and the store load only for the report commands.
    from config.signing import signing_key
    from reports.case_report import case_report
    from store.engine import open_store

    store = open_store(settings.effective_database_url)
    try:
        key = signing_key(settings)
        return await case_report(
            store, key, settings.data_dir, case_id, lang, fmt, datetime.now(UTC)
        )
    finally:
        await store.close()


@report_app.command("case")
def case(
    case_id: str,
    lang: LangOption = "ko",
    format: Annotated[str, typer.Option("--format", help="pdf, html or json")] = "pdf",
    out: OutOption = Path("."),
) -> None:
    """One case's pack: every audit row, alerts, notices as received, decisions, KYC, key
    changes and the chain proof (the head is anchored with it)."""
    if format not in ("pdf", "html", "json"):
        raise typer.BadParameter("pdf, html or json", param_hint="--format")
    from reports.case_report import UnknownCase

    try:
        report = asyncio.run(_case(Settings(), case_id, _check_lang(lang), ReportFormat(format)))
    except UnknownCase:
        console.print(f"[red]no audit rows for case {case_id!r} in this store[/]")
        raise typer.Exit(1) from None
    except FontMissing as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    console.print(f"wrote {_write(report, out)}")


async def _monthly(
    settings: Settings, month: str, exchange: str | None, lang: str, fmt: ReportFormat
) -> RenderedReport:
    from config.signing import signing_key
    from reports.monthly_report import gather_monthly, render_monthly
    from store.engine import open_store

    store = open_store(settings.effective_database_url)
    try:
        key = signing_key(settings)
        figures = await gather_monthly(
            store, key, settings.data_dir, month, datetime.now(UTC), exchange, (lang,)
        )
        return await asyncio.to_thread(render_monthly, figures[lang], fmt)
    finally:
        await store.close()


@report_app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (KST)")],
    exchange: Annotated[
        str | None, typer.Option("--exchange", help="one exchange (default: all)")
    ] = None,
    lang: LangOption = "ko",
    format: Annotated[str, typer.Option("--format", help="pdf, html, json or csv")] = "pdf",
    out: OutOption = Path("."),
) -> None:
    """The month's figures: cases by exchange, kind, severity and detector; outcomes; time
    to act; notices per channel; dismissals per source; key changes; the chain's proof."""
    from reports.monthly_report import check_month

    try:
        check_month(month)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--month") from None
    if format not in ("pdf", "html", "json", "csv"):
        raise typer.BadParameter("pdf, html, json or csv", param_hint="--format")
    try:
        report = asyncio.run(
            _monthly(Settings(), month, exchange, _check_lang(lang), ReportFormat(format))
        )
    except FontMissing as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    console.print(f"wrote {_write(report, out)}")


async def _ensure_schedules(settings: Settings) -> None:
    from temporalio.client import Client

    from payloads.converter import data_converter
    from worker.report_schedules import ensure_report_schedules

    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
    await ensure_report_schedules(client, settings.task_queue, settings.anchor_every)


@report_app.command("schedule")
def schedule() -> None:
    """Create the audit anchor's and the monthly report's Schedules, or update them."""
    settings = Settings()
    asyncio.run(_ensure_schedules(settings))
    console.print(
        f"report schedules in place: anchor every {settings.anchor_every}, "
        "monthly report on the 1st at 09:00 Asia/Seoul"
    )
