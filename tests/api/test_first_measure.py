"""Heightened monitoring comes with the alert's 202, not with the case's first turn."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from api.app import create_app
from api.auth import Role
from config.settings import Settings
from domain.activity_io import KeyMeasure
from domain.first_measure import measure_event_id
from store.audit import audit_rows
from store.port import Store
from tests.api.conftest import auth
from tests.api.support import STAGE_WAIT_SECONDS, alert_for, raise_alert, register_key


@asynccontextmanager
async def _app_on(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
            yield client, app.state.store


async def test_a_new_case_flags_its_key_before_any_worker_runs_it(
    api_settings: Settings, migrated: None
) -> None:
    # No worker polls this queue: whatever flags the key, it is not the case's turn.
    idle = api_settings.model_copy(update={"task_queue": f"nobody-{uuid.uuid4().hex[:8]}"})
    async with _app_on(idle) as (http, store):
        key = await register_key(http)
        accepted = await raise_alert(http, alert_for(key, "medium"))
        registry = (await http.get(f"/v1/keys/{key.key_id}", headers=auth(Role.OFFICER))).json()
        rows = await store.read(lambda c: audit_rows(c, key_id=key.key_id))

    assert accepted["status"] == "opened"
    assert registry["status"] == "MONITORED"
    # The registration's own fact comes first (registry changes are audited); then the measure.
    assert [r.event_type for r in rows] == ["key.registered", "key.status_changed"]
    assert (rows[1].event_id, rows[1].payload["to"]) == (
        measure_event_id(accepted["case_id"], KeyMeasure.MONITOR),
        "MONITORED",
    )


@pytest.mark.usefixtures("worker")
async def test_the_cases_first_turn_adds_its_facts_and_no_second_change(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    accepted = await raise_alert(http, alert_for(key, "medium"))
    url = f"/v1/cases/{accepted['case_id']}/audit"
    async with asyncio.timeout(STAGE_WAIT_SECONDS):
        while "case.opened" not in (types := await _event_types(http, url)):  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    assert types.count("key.status_changed") == 1


async def _event_types(http: httpx.AsyncClient, url: str) -> list[str]:
    rows = (await http.get(url, headers=auth(Role.AUDITOR))).json()
    return [row["event_type"] for row in rows]
