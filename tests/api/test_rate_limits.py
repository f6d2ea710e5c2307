"""Per-token rate limits on alerts and authorize: 429 with Retry-After, nothing half-done."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from api.app import create_app
from api.auth import Principal, Role
from api.rate_limit import RateLimit
from config.settings import Settings
from tests.api.conftest import auth
from tests.api.support import alert_for, register_key

pytestmark = pytest.mark.usefixtures("worker")


@asynccontextmanager
async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
            yield client


async def test_the_alert_over_the_limit_is_429_and_leaves_no_trace(api_settings: Settings) -> None:
    limited = {"alerts_per_second": 1.0, "alerts_burst": 2}
    async with _client(api_settings.model_copy(update=limited)) as http:
        keys = [await register_key(http) for _ in range(3)]
        alerts = [alert_for(key) for key in keys]
        sent = [
            await http.post("/v1/alerts", json=a, headers=auth(Role.SURVEILLANCE)) for a in alerts
        ]
        other_token = await http.post(
            "/v1/alerts", json=alert_for(await register_key(http)), headers=auth(Role.ADMIN)
        )
        await asyncio.sleep(float(sent[2].headers["retry-after"]) + 0.1)
        again = await http.post("/v1/alerts", json=alerts[2], headers=auth(Role.SURVEILLANCE))

    assert [r.status_code for r in sent] == [202, 202, 429]
    assert sent[2].json()["error"]["code"] == "rate_limited"
    assert int(sent[2].headers["retry-after"]) >= 1
    assert other_token.status_code == 403  # another token's bucket is its own
    # The refused alert was never taken: sent again it opens its case, not a duplicate.
    assert again.status_code == 202 and again.json()["status"] == "opened"


async def test_authorize_over_the_limit_is_429(api_settings: Settings) -> None:
    limited = {"authorize_per_second": 0.5, "authorize_burst": 1}
    async with _client(api_settings.model_copy(update=limited)) as http:
        key = await register_key(http)
        asked = {"ip": "203.0.113.9", "permission": "trade"}
        path = f"/v1/keys/{key.key_id}/authorize"
        first = await http.post(path, json=asked, headers=auth(Role.GATEWAY))
        second = await http.post(path, json=asked, headers=auth(Role.GATEWAY))

    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["retry-after"] == "2"


def test_a_bucket_refills_at_its_rate_and_holds_at_most_its_burst() -> None:
    now = [0.0]
    limit = RateLimit(rate=2, burst=3, clock=lambda: now[0])
    caller = Principal(Role.GATEWAY, "gw")

    burst = [limit.wait_for(caller) for _ in range(4)]
    now[0] = 0.5
    refilled = limit.wait_for(caller)
    now[0] = 100.0
    after_long_quiet = [limit.wait_for(caller) for _ in range(4)]

    assert burst[:3] == [0, 0, 0] and burst[3] == pytest.approx(0.5)
    assert refilled == 0
    assert after_long_quiet[:3] == [0, 0, 0] and after_long_quiet[3] > 0
    assert RateLimit(rate=0, burst=1).wait_for(caller) == 0  # off
