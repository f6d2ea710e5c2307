"""GET /v1/reports: the monthly reports in the data folder, listed and downloaded (auditor)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.auth import Role
from bench.report_data import november_specs, seed_cases
from config.settings import Settings
from config.signing import signing_key
from reports.monthly_report import write_monthly
from tests.api.conftest import auth, upbit_only
from tests.store.databases import sqlite_database

AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


@pytest_asyncio.fixture
async def http(api_settings: Settings, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own, whose data folder holds November's reports."""
    settings = api_settings.model_copy(
        update={"data_dir": tmp_path, "database_url": sqlite_database(tmp_path)}
    )
    application: FastAPI = create_app(settings)
    async with application.router.lifespan_context(application):
        store = application.state.store
        await seed_cases(store, november_specs(), AS_OF)
        await write_monthly(store, signing_key(settings), tmp_path, "2026-11", AS_OF)
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
            yield client


async def test_auditors_list_and_download_the_months_reports(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/v1/reports", headers=auth(Role.AUDITOR))).json()
    pdf = await http.get("/v1/reports/monthly-2026-11-ko.pdf", headers=auth(Role.AUDITOR))
    csv = await http.get("/v1/reports/monthly-2026-11-en.csv", headers=auth(Role.AUDITOR))

    assert sorted(r["name"] for r in listed) == sorted(
        f"monthly-2026-11-{lang}.{fmt}"
        for lang in ("ko", "en")
        for fmt in ("pdf", "html", "json", "csv")
    )
    assert {(r["month"], r["exchange"]) for r in listed} == {("2026-11", None)}
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) == next(
        r["bytes"] for r in listed if r["name"] == "monthly-2026-11-ko.pdf"
    )
    assert "cases_opened,6" in csv.text


async def test_other_names_scopes_and_roles_are_refused(http: httpx.AsyncClient) -> None:
    for name in (
        "..%2Fkeycase.db",
        "keycase.db",
        "monthly-2026-11-ko.exe",
        "monthly-2026-10-ko.pdf",
    ):
        response = await http.get(f"/v1/reports/{name}", headers=auth(Role.AUDITOR))
        assert response.status_code == 404, name
    scoped = await http.get("/v1/reports", headers=upbit_only(Role.AUDITOR))
    assert scoped.json() == []  # the all-exchange report is not an upbit auditor's to read
    hidden = await http.get("/v1/reports/monthly-2026-11-ko.pdf", headers=upbit_only(Role.AUDITOR))
    assert hidden.status_code == 404
    assert (await http.get("/v1/reports", headers=auth(Role.OFFICER))).status_code == 403
