"""The report Schedules on the real dev server: anchors appear, and the monthly one fires at
09:00 KST on the 1st and writes the month before into the data folder GET /v1/reports lists."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.auth import Role
from config.settings import Settings
from domain.reports.kst import previous_month
from domain.reports.schedules import ANCHOR_SCHEDULE_ID, MONTHLY_SCHEDULE_ID, REPORT_TIME_ZONE
from store.anchors import stored_anchors
from tests.api.conftest import auth
from tests.api.support import open_case
from worker.report_schedules import ensure_report_schedules

pytestmark = pytest.mark.usefixtures("worker")


@pytest_asyncio.fixture
async def schedules(dev_env: WorkflowEnvironment, api_settings: Settings) -> AsyncIterator[None]:
    client = dev_env.client
    await ensure_report_schedules(client, api_settings.task_queue, timedelta(seconds=1))
    try:
        yield
    finally:
        for schedule_id in (ANCHOR_SCHEDULE_ID, MONTHLY_SCHEDULE_ID):
            await client.get_schedule_handle(schedule_id).delete()


@pytest.mark.usefixtures("schedules")
async def test_the_anchor_schedule_signs_the_head_and_the_monthly_one_writes_reports(
    http: httpx.AsyncClient, app: FastAPI, dev_env: WorkflowEnvironment
) -> None:
    await open_case(http, "low")
    store = app.state.store
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while not await store.read(stored_anchors):
        assert loop.time() < deadline, "no anchor from the anchor Schedule"
        await asyncio.sleep(0.3)

    monthly = dev_env.client.get_schedule_handle(MONTHLY_SCHEDULE_ID)
    described = await monthly.describe()
    calendar = described.schedule.spec.calendars[0]
    upcoming = described.info.next_action_times[0]
    await monthly.trigger()
    month = previous_month(datetime.now(UTC))
    deadline = loop.time() + 30
    while True:
        listed = (await http.get("/v1/reports", headers=auth(Role.AUDITOR))).json()
        if len([r for r in listed if r["month"] == month]) == 8:
            break
        assert loop.time() < deadline, f"the triggered run wrote {listed}"
        await asyncio.sleep(0.3)
    verified = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()

    assert described.schedule.spec.time_zone_name == REPORT_TIME_ZONE
    assert ([r.start for r in calendar.day_of_month], [r.start for r in calendar.hour]) == (
        [1],
        [9],
    )
    assert (upcoming.day, upcoming.hour, upcoming.minute) == (1, 0, 0)  # 09:00 KST is 00:00 UTC
    assert verified["ok"] is True and verified["anchors_checked"] >= 1
