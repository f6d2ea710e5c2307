"""The monthly figures against a seeded November with known counts, in both languages."""

import csv
import html
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from bench.report_data import november_specs, seed_cases
from domain.reports.monthly import MonthlyFigures
from reports.formats import ReportFormat
from reports.monthly_report import gather_monthly, render_monthly, write_monthly
from store.port import Store

AS_OF = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 KST on the 1st, when the Schedule fires
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def cells(figures: MonthlyFigures, name: str) -> list[list[str]]:
    return [[*row.keys, *row.values] for row in figures.table(name).rows]


@pytest.fixture
async def november(store: Store) -> Store:
    await seed_cases(store, november_specs(), AS_OF)
    return store


async def test_korean_figures_count_the_month_in_kst(november: Store, tmp_path: Path) -> None:
    ko = (await gather_monthly(november, KEY, tmp_path, "2026-11", AS_OF, langs=("ko",)))["ko"]

    assert ko.cases_opened == 6  # the case at 00:10 KST on 1 December is December's
    assert cells(ko, "opened") == [
        ["bithumb", "IP 이상", "보통", "2"],
        ["upbit", "키 공유·대여", "높음", "3"],
        ["upbit", "자전거래", "낮음", "1"],
    ]
    assert cells(ko, "by_source") == [
        ["shared_origin", "3", "1", "33.3%"],
        ["감시 시스템(외부)", "3", "0", "0.0%"],
    ]
    assert cells(ko, "outcomes") == [
        ["강제 만료", "2", "2일 12시간", "3일 0시간"],
        ["복구", "1", "10일 0시간", "10일 0시간"],
        ["기각", "1", "2시간 0분", "2시간 0분"],
        ["혐의 없음 종결", "1", "3일 0시간", "3일 0시간"],
        ["진행 중", "1", "9시간 30분", "9시간 30분"],
    ]
    assert cells(ko, "time_to_act") == [
        ["경보 → 집중 모니터링", "6", "0분", "0분"],
        ["경보 → 경고", "3", "1시간 30분", "10시간 0분"],
        ["경보 → 만료", "2", "2일 12시간", "3일 0시간"],
    ]
    assert cells(ko, "notices") == [["이메일", "3", "2", "1"], ["문자(SMS)", "3", "2", "0"]]
    assert cells(ko, "key_changes") == [["ACTIVE", "MONITORED", "6"], ["MONITORED", "EXPIRED", "2"]]
    weeks, times = ko.charts
    assert weeks.categories == [
        "11/01~11/01",
        "11/02~11/08",
        "11/09~11/15",
        "11/16~11/22",
        "11/23~11/29",
        "11/30~11/30",
    ]
    assert weeks.totals == [0, 2, 1, 2, 0, 1]
    assert [s.values for s in times.series] == [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0]]
    assert ko.proof.ok and ko.proof.head_seq is not None


async def test_english_figures_for_one_exchange(november: Store, tmp_path: Path) -> None:
    en = (
        await gather_monthly(november, KEY, tmp_path, "2026-11", AS_OF, "bithumb", langs=("en",))
    )["en"]

    assert en.cases_opened == 2
    assert cells(en, "opened") == [["bithumb", "IP anomaly", "medium", "2"]]
    assert cells(en, "outcomes")[3:] == [
        ["cleared", "1", "3 d 0 h", "3 d 0 h"],
        ["still open", "1", "9 h 30 min", "9 h 30 min"],
    ]
    assert cells(en, "notices") == [["e-mail", "0", "0", "0"], ["SMS", "0", "0", "0"]]
    assert cells(en, "key_changes") == [["ACTIVE", "MONITORED", "2"]]


async def test_every_format_carries_the_figures(november: Store, tmp_path: Path) -> None:
    figures = await gather_monthly(november, KEY, tmp_path, "2026-11", AS_OF)
    ko, en = figures["ko"], figures["en"]

    pdf_ko = render_monthly(ko, ReportFormat.PDF).content
    pdf_en = render_monthly(en, ReportFormat.PDF).content
    page = html.unescape(render_monthly(ko, ReportFormat.HTML).content.decode())
    rows = list(csv.reader(io.StringIO(render_monthly(en, ReportFormat.CSV).content.decode())))
    data = json.loads(render_monthly(ko, ReportFormat.JSON).content)

    text_ko = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_ko)).pages)
    text_en = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_en)).pages)
    assert "월간 보고서" in text_ko and "Monthly report" in text_en
    assert re.search(r"경보 → 경고\s+3\s+1시간 30분\s+10시간 0분", text_ko)
    assert re.search(r"alert → warning\s+3\s+1 h 30 min\s+10 h 0 min", text_en)
    assert "33.3%" in text_ko and str(ko.proof.head_hash) in text_ko
    assert page.count("<svg") == 2 and "<script" not in page
    assert [
        "2026-11",
        "",
        "by_source",
        "shared_origin",
        "",
        "",
        "False-positive rate",
        "33.3%",
    ] in rows
    assert ["2026-11", "", "total", "", "", "", "cases_opened", "6"] in rows
    assert data["cases_opened"] == 6


async def test_the_scheduled_run_writes_every_language_and_format(
    november: Store, tmp_path: Path
) -> None:
    names = await write_monthly(november, KEY, tmp_path, "2026-11", AS_OF)

    assert sorted(names) == sorted(
        f"monthly-2026-11-{lang}.{fmt}"
        for lang in ("ko", "en")
        for fmt in ("pdf", "html", "json", "csv")
    )
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == sorted(names)


def test_cli_writes_one_months_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from typer.testing import CliRunner

    from cli.commands import app
    from store.engine import open_store
    from tests.store.databases import sqlite_database

    url = sqlite_database(tmp_path)

    async def seed() -> None:
        store = open_store(url)
        await seed_cases(store, november_specs(), AS_OF)
        await store.close()

    asyncio.run(seed())
    monkeypatch.setenv("KEYCASE_DATABASE_URL", url)
    monkeypatch.setenv("KEYCASE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    out = ["--out", str(tmp_path / "out")]

    csv_run = runner.invoke(
        app,
        ["report", "monthly", "--month", "2026-11", "--exchange", "upbit", "--format", "csv", *out],
    )
    bad = runner.invoke(app, ["report", "monthly", "--month", "2026-13", *out])

    assert csv_run.exit_code == 0, csv_run.output
    text = (tmp_path / "out" / "monthly-2026-11-upbit-ko.csv").read_text()
    assert "2026-11,upbit,total,,,,cases_opened,4" in text
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
