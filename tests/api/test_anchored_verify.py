"""GET /v1/audit/verify checks the chain against its stored anchors (an app of its own, so
tampering here leaves the other tests' chain alone)."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.auth import Role
from config.settings import Settings
from config.signing import sign_head, signing_key
from store.anchors import publish_anchor
from store.audit import append_facts
from store.port import Store
from tests.api.conftest import auth
from tests.store import tamper
from tests.store.databases import sqlite_database
from tests.store.factories import T0, fact


@pytest_asyncio.fixture
async def own_app(api_settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = api_settings.model_copy(
        update={"data_dir": tmp_path, "database_url": sqlite_database(tmp_path)}
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_verify_names_the_anchor_a_cut_tail_no_longer_matches(own_app: FastAPI) -> None:
    store: Store = own_app.state.store
    key = signing_key(own_app.state.settings)
    sign = lambda seq, row_hash, at: sign_head(key, seq, row_hash, at, "schedule")  # noqa: E731
    await store.write(lambda c: append_facts(c, [fact(f"e{i}") for i in range(4)], T0))
    await store.write(lambda c: publish_anchor(c, sign, T0))
    transport = httpx.ASGITransport(app=own_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as http:
        before = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()
        await tamper.execute(store, ("DELETE FROM audit_log WHERE seq = 4", {}))
        after = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()

    assert (before["ok"], before["anchors_checked"], before["first_bad_anchor"]) == (True, 1, None)
    assert (after["ok"], after["rows_checked"], after["first_bad_row"]) == (False, 3, None)
    assert (after["first_bad_anchor"], after["anchor_problem"]) == (4, "missing_tail")
