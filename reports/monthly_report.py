"""Making the monthly report: anchor the head, prove the chain, count the month, render.

The scheduled run writes every language and format into `<data_dir>/reports/`, which
`GET /v1/reports` lists; a file written twice for the same month is replaced whole.
"""

import asyncio
import os
import re
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection

from activities.anchors import AnchorPublisher
from config.signing import signature_checker
from domain.reports.kst import month_bounds
from domain.reports.monthly import (
    CaseSummary,
    MonthlyFigures,
    NoticeOutcome,
    monthly_figures,
    summarise_all,
)
from domain.reports.wording import LANGS
from reports.formats import RenderedReport, ReportFormat
from reports.monthly_render import render_monthly_csv, render_monthly_html, render_monthly_pdf
from store.port import Store
from store.reports import chain_proof, month_events, month_key_changes, month_notices

MonthData = tuple[list[CaseSummary], list[NoticeOutcome], list[tuple[str, str]]]
REPORTS_DIR = "reports"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# The names the scheduled run writes (and the only ones the API serves).
REPORT_NAME = re.compile(
    r"^monthly-(?P<month>\d{4}-\d{2})(?:-(?P<exchange>[a-z0-9_-]{1,32}))?"
    r"-(?P<lang>ko|en)\.(?P<format>pdf|html|json|csv)$"
)


def check_month(month: str) -> str:
    """`YYYY-MM`, or ValueError saying so."""
    if not MONTH.match(month):
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    return month


async def gather_monthly(
    store: Store,
    key: Ed25519PrivateKey,
    data_dir: Path,
    month: str,
    now: datetime,
    exchange: str | None = None,
    langs: tuple[str, ...] = LANGS,
) -> dict[str, MonthlyFigures]:
    """The month's figures in each of `langs`, read once, with the head anchored now."""
    start, end = month_bounds(check_month(month))
    anchor = await AnchorPublisher(store, key, data_dir, clock=lambda: now).publish("report")
    ok = signature_checker(key.public_key())
    proof = await store.scan(lambda c: chain_proof(c, anchor, ok))

    def read(connection: Connection) -> MonthData:
        cases = summarise_all(month_events(connection, start, end))
        notices = month_notices(connection, start, end)
        return cases, notices, month_key_changes(connection, start, end, exchange)

    cases, notices, changes = await store.scan(read)
    return {
        lang: monthly_figures(month, cases, notices, changes, proof, now, exchange, lang)
        for lang in langs
    }


def report_name(month: str, exchange: str | None, lang: str, fmt: ReportFormat) -> str:
    scope = f"-{exchange}" if exchange else ""
    return f"monthly-{month}{scope}-{lang}.{fmt.value}"


def render_monthly(figures: MonthlyFigures, fmt: ReportFormat) -> RenderedReport:
    """The figures in `fmt`."""
    if fmt is ReportFormat.PDF:
        content = render_monthly_pdf(figures)
    elif fmt is ReportFormat.HTML:
        content = render_monthly_html(figures).encode()
    elif fmt is ReportFormat.JSON:
        content = figures.model_dump_json(indent=2).encode()
    else:
        content = render_monthly_csv(figures).encode()
    name = report_name(figures.month, figures.exchange, figures.lang, fmt)
    return RenderedReport(content, fmt, name)


def write_report(report: RenderedReport, folder: Path) -> Path:
    """Write whole or not at all: a temporary file renamed into place."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / report.filename
    draft = folder / f".{report.filename}.{os.getpid()}"
    draft.write_bytes(report.content)
    draft.replace(path)
    return path


async def write_monthly(
    store: Store, key: Ed25519PrivateKey, data_dir: Path, month: str, now: datetime
) -> list[str]:
    """Every language and format of the month into `<data_dir>/reports/`; the names written."""
    figures = await gather_monthly(store, key, data_dir, month, now)

    def render_all() -> list[str]:
        written = []
        for each in figures.values():
            for fmt in ReportFormat:
                written.append(write_report(render_monthly(each, fmt), data_dir / REPORTS_DIR).name)
        return written

    return await asyncio.to_thread(render_all)
