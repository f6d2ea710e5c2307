"""Detection end to end, over HTTP only: the gateway's questions in, a case with evidence out.

The e2e policy sweeps every two seconds; the stack's Schedule is made as `keycase up` makes it.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import ScheduleOverlapPolicy

from domain.detection.sweep import SWEEP_SCHEDULE_ID
from tests.detection.patterns import Pattern, labelled_patterns
from tests.e2e.stack import RunningStack, running_stack
from tests.store.databases import (
    BACKENDS,
    drop_postgres_schema,
    postgres_schema,
    postgres_url_or_skip,
)
from worker.sweep_schedule import ensure_sweep_schedule

pytestmark = pytest.mark.e2e

SWEEP_SECONDS = 2.0  # tests/e2e/policy.toml [detection] every
_runs = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningStack]:
    """The stack on SQLite, and on PostgreSQL (a schema of its own) when one is configured."""
    data_dir: Path = tmp_path_factory.mktemp("keycase-detection-e2e")
    if request.param == "sqlite":
        async with running_stack(data_dir, workers=1, sweeps=True) as running:
            yield running
        return
    base = postgres_url_or_skip()
    schema, url = postgres_schema(base)
    try:
        async with running_stack(data_dir, workers=1, database_url=url, sweeps=True) as running:
            yield running
    finally:
        drop_postgres_schema(base, schema)


async def register(stack: RunningStack, pattern: Pattern) -> None:
    async with stack.http("admin") as admin:
        for n, spec in enumerate(pattern.keys):
            account = {
                "account_id": spec.account_id,
                "email": f"owner{n}@example.com",
                "phone": f"+8210777{n:05d}",
            }
            assert (await admin.post("/v1/accounts", json=account)).is_success
            key = {
                "key_id": spec.key_id,
                "account_id": spec.account_id,
                "exchange": "upbit",
                "permissions": ["read", "trade"],
                "allowed_ips": spec.allowed_ips,
            }
            response = await admin.post("/v1/keys", json=key)
            assert response.is_success, response.text


async def replay(stack: RunningStack, pattern: Pattern) -> None:
    """The pattern's requests in order, now (its timing squeezed into moments)."""
    async with stack.http("gateway") as gateway:
        for request in pattern.requests:
            body: dict[str, Any] = {"ip": request.ip, "permission": request.permission}
            if request.tls_fingerprint:
                body["tls_fingerprint"] = request.tls_fingerprint
            if request.user_agent:
                body["user_agent"] = request.user_agent
            response = await gateway.post(f"/v1/keys/{request.key_id}/authorize", json=body)
            assert response.status_code == 200, response.text


async def cases_of(stack: RunningStack, key_id: str) -> list[dict[str, Any]]:
    async with stack.http("officer") as officer:
        response = await officer.get("/v1/cases", params={"key_id": key_id})
    assert response.status_code == 200, response.text
    cases: list[dict[str, Any]] = response.json()["cases"]
    return cases


async def test_key_used_from_five_networks_opens_a_case_with_evidence_benign_ones_none(
    stack: RunningStack,
) -> None:
    patterns = {
        p.name: p
        for p in labelled_patterns(datetime.now(UTC), prefix=f"e2e{next(_runs)}")
        if not p.abusive or p.name == "five-networks"
    }
    for pattern in patterns.values():
        await register(stack, pattern)
    benign = [p for p in patterns.values() if not p.abusive]
    for pattern in benign:
        await replay(stack, pattern)
    abusive = patterns["five-networks"]
    (key_id,) = [spec.key_id for spec in abusive.keys]

    await replay(stack, abusive)
    sent = asyncio.get_running_loop().time()
    while not (cases := await cases_of(stack, key_id)):
        # Two sweep intervals on a quiet machine; generous here, the bench measures it.
        assert asyncio.get_running_loop().time() - sent < 30 * SWEEP_SECONDS, "no case opened"
        await asyncio.sleep(0.2)
    print(f"case visible {asyncio.get_running_loop().time() - sent:.1f}s after the last request")

    async with stack.http("officer") as officer:
        audit = (await officer.get(f"/v1/cases/{cases[0]['case_id']}/audit")).json()
    alerts = [row["payload"] for row in audit if row["event_type"] == "alert.received"]
    assert [a["kind"] for a in alerts] == ["key_sharing"]
    evidence = alerts[0]["evidence"]
    assert evidence["detector"] == "many_networks"
    assert evidence["counts"]["networks"] == 5
    assert evidence["networks"]["values"] == sorted(
        f"{ip.rsplit('.', 1)[0]}.0/24" for ip in {r.ip for r in abusive.requests}
    )
    # The benign rows were logged first, so the sweep that raised this one also saw them.
    for pattern in benign:
        for spec in pattern.keys:
            assert await cases_of(stack, spec.key_id) == [], pattern.name


async def test_the_sweep_schedule_skips_overlaps_at_the_policy_interval(
    stack: RunningStack,
) -> None:
    again = await ensure_sweep_schedule(stack.temporal, "keycase", timedelta(seconds=SWEEP_SECONDS))
    described = await stack.temporal.get_schedule_handle(SWEEP_SCHEDULE_ID).describe()

    assert again is False  # made by the stack already: updated in place, not made twice
    assert described.schedule.policy.overlap is ScheduleOverlapPolicy.SKIP
    assert [i.every.total_seconds() for i in described.schedule.spec.intervals] == [SWEEP_SECONDS]
    assert described.info.num_actions >= 1
