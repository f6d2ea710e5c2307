"""An appeal end to end, over HTTP only: a key expires, support appeals for its owner, an
officer upholds, the owner hears of it by e-mail and SMS (the real SDKs, the local fakes),
and the replacement key works from its own whitelist."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.e2e.stack import RunningStack, running_stack
from tests.e2e.test_keycase_over_http import (
    gateway_allows,
    raise_alert,
    register_key,
    wait_for_stage,
)

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-e2e-appeals")
    async with running_stack(data_dir, workers=1) as running:
        print(f"e2e logs in {running.logs}")
        yield running


async def _listed(stack: RunningStack, stage: str, case_id: str) -> dict[str, Any]:
    async with stack.http("officer") as officer, asyncio.timeout(30):
        while True:
            response = await officer.get("/v1/cases", params={"stage": stage, "limit": 200})
            assert response.status_code == 200, response.text
            found = [c for c in response.json()["cases"] if c["case_id"] == case_id]
            if found:
                listed: dict[str, Any] = found[0]
                return listed
            await asyncio.sleep(0.5)


async def test_appeal_upheld_then_replacement_key_authorizes_from_its_whitelist(
    stack: RunningStack,
) -> None:
    old = await register_key(stack, "korbit")
    opened = await raise_alert(stack, old, "critical")
    case_id = opened["case_id"]
    await wait_for_stage(stack, case_id, "EXPIRED")

    async with stack.http("support") as support:
        filed = await support.post(
            f"/v1/cases/{case_id}/appeal",
            json={"statement": "제 사무실 서버입니다. The second address is my office."},
        )
    assert filed.status_code == 201, filed.text
    await _listed(stack, "APPEAL_REVIEW", case_id)
    async with stack.http("officer") as officer:
        upheld = await officer.post(
            f"/v1/cases/{case_id}/appeal/uphold", json={"reason": "office lease on file"}
        )
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld"
    await _listed(stack, "APPEAL_UPHELD", case_id)

    new_key_id = f"{old.key_id}-r"
    replacement: dict[str, Any] = {
        "key_id": new_key_id,
        "account_id": old.account_id,
        "exchange": old.exchange,
        "permissions": ["read", "trade"],
        "allowed_ips": ["198.51.100.0/28"],
        "replaces": old.key_id,
    }
    async with stack.http("admin") as admin, asyncio.timeout(30):
        while (created := await admin.post("/v1/keys", json=replacement)).status_code == 409:
            assert "may be registered from" in created.json()["error"]["message"]
            await asyncio.sleep(0.5)  # the e2e policy's cool-down, PT2S
    assert created.status_code == 201, created.text

    assert (await gateway_allows(stack, new_key_id, "198.51.100.3"))["allowed"] is True
    assert (await gateway_allows(stack, new_key_id, "203.0.113.9"))["allowed"] is False
    assert (await gateway_allows(stack, old.key_id, "203.0.113.9"))["allowed"] is False
    async with asyncio.timeout(30):
        while True:
            mails = [m for m in stack.sendgrid.accepted if "이의 신청" in m.subject]
            upheld_sms = [s for s in stack.twilio.accepted if "이의 신청이 인용" in s.body]
            if mails and upheld_sms:
                break
            await asyncio.sleep(0.5)
    assert [m.to for m in mails] == [old.email]
    assert len(upheld_sms) == 1
    async with stack.http("auditor") as auditor:
        rows = (await auditor.get(f"/v1/cases/{case_id}/audit")).json()
        verified = (await auditor.get("/v1/audit/verify")).json()
    types = [row["event_type"] for row in rows]
    assert [t for t in types if t.startswith("appeal.") or t == "key.replaced"] == [
        "appeal.filed",
        "appeal.upheld",
        "key.replaced",
    ]
    assert verified["ok"] is True
