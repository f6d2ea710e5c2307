"""When a dependency is down or broken, callers still get JSON errors, never tracebacks."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.auth import Role
from api.intake import AlertsInFlight
from config.settings import Settings
from tests.api.conftest import auth
from tests.api.support import alert_for, register_key
from tests.ports import free_port  # nothing listens there once probed


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
            yield client


async def test_temporal_unreachable_is_503_and_the_api_still_starts(
    api_settings: Settings, migrated: None
) -> None:
    settings = api_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with _client(settings) as http:
        cases = await http.get("/v1/cases", headers=auth(Role.OFFICER))
        key = await http.get("/v1/keys/key-anything", headers=auth(Role.OFFICER))

    assert cases.status_code == 503
    assert cases.json()["error"]["code"] == "temporal_unavailable"
    assert cases.headers["Retry-After"] == "1"
    assert key.status_code == 404  # the store still answers


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("deliveries", [1, 3])
async def test_alert_refused_while_temporal_is_down_goes_through_when_retried(
    api_settings: Settings, http: httpx.AsyncClient, deliveries: int
) -> None:
    """Repeats that waited on the failed first delivery are refused too, not `duplicate`."""
    key = await register_key(http)
    alert = alert_for(key, "medium")
    down = api_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    async with _client(down) as http_while_down:
        refused = await asyncio.gather(
            *(
                http_while_down.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))
                for _ in range(deliveries)
            )
        )

    retried = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert [r.status_code for r in refused] == [503] * deliveries
    assert all(r.headers.get("Retry-After") == "1" for r in refused)
    assert (retried.status_code, retried.json()["status"]) == (202, "opened")


async def test_store_failure_is_a_500_json_error_without_internals(
    api_settings: Settings, tmp_path: Path
) -> None:
    unmigrated = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    settings = api_settings.model_copy(update={"database_url": unmigrated})
    async with _client(settings) as http:
        response = await http.get("/v1/keys/key-anything", headers=auth(Role.OFFICER))

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "unexpected error; see the server log"}
    }


async def test_alerts_beyond_the_in_flight_bound_are_answered_503_at_once(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    """Past capacity intake sheds load with Retry-After, touching neither store nor Temporal."""
    key = await register_key(http)
    alert = alert_for(key, "medium")
    kept = app.state.alerts_in_flight
    app.state.alerts_in_flight = AlertsInFlight(limit=0)
    try:
        shed = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))
    finally:
        app.state.alerts_in_flight = kept
    intake = await http.get(f"/v1/keys/{key.key_id}", headers=auth(Role.OFFICER))

    assert (shed.status_code, shed.json()["error"]["code"]) == (503, "intake_busy")
    assert shed.headers["Retry-After"] == "1"
    assert intake.json()["status"] == "ACTIVE"  # nothing was done for the shed alert
