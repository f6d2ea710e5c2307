"""keycase end to end: dev server, two workers and the API as processes, driven over HTTP.

The policy (tests/e2e/policy.toml) is the real ladder in seconds; notices go through the
real SendGrid and Twilio SDKs to local fake servers.
"""

import asyncio
import itertools
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from local_stack.readiness import poller_identities
from tests.alert_bodies import alert_body
from tests.e2e.stack import RunningStack, running_stack

pytestmark = pytest.mark.e2e

_numbers = itertools.count(1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-e2e")
    async with running_stack(data_dir, workers=2) as running:
        print(f"e2e logs in {running.logs}")
        yield running


@dataclass(frozen=True)
class Key:
    key_id: str
    account_id: str
    exchange: str
    email: str


async def register_key(stack: RunningStack, exchange: str) -> Key:
    """A fresh account and key on `exchange`, whitelisted for 203.0.113.0/24 only."""
    n = next(_numbers)
    account_id, key_id = f"acct-e2e-{n}", f"key-e2e-{exchange}-{n}"
    email = f"owner{n}@example.com"
    async with stack.http("admin") as admin:
        account = {
            "account_id": account_id,
            "email": email,
            "phone": f"+8210555{n:05d}",
            "locale": "ko",
        }
        assert (await admin.post("/v1/accounts", json=account)).is_success
        key = {
            "key_id": key_id,
            "account_id": account_id,
            "exchange": exchange,
            "permissions": ["read", "trade", "withdraw"],
            "allowed_ips": ["203.0.113.0/24"],
        }
        assert (await admin.post("/v1/keys", json=key)).is_success
    return Key(key_id, account_id, exchange, email)


async def raise_alert(
    stack: RunningStack, key: Key, severity: str, alert_id: str | None = None
) -> dict[str, Any]:
    alert = alert_body(key, severity, alert_id)
    async with stack.http("surveillance") as surveillance:
        response = await surveillance.post("/v1/alerts", json=alert)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def case_of(stack: RunningStack, case_id: str) -> dict[str, Any]:
    async with stack.http("officer") as officer:
        response = await officer.get(f"/v1/cases/{case_id}")
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def wait_for_stage(
    stack: RunningStack, case_id: str, stage: str, seconds: float = 45
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + seconds
    while (case := await case_of(stack, case_id))["stage"] != stage:
        assert asyncio.get_running_loop().time() < deadline, f"still {case['stage']}"
        await asyncio.sleep(0.5)
    return case


async def gateway_allows(stack: RunningStack, key_id: str, ip: str) -> dict[str, Any]:
    async with stack.http("gateway") as gateway:
        response = await gateway.post(
            f"/v1/keys/{key_id}/authorize", json={"ip": ip, "permission": "trade"}
        )
    assert response.status_code == 200, response.text
    decision: dict[str, Any] = response.json()
    return decision


async def test_deadline_passes_without_kyc_expires_key_and_gateway_denies_it(
    stack: RunningStack,
) -> None:
    key = await register_key(stack, "upbit")
    assert (await gateway_allows(stack, key.key_id, "203.0.113.9"))["allowed"] is True

    opened = await raise_alert(stack, key, "critical")
    assert opened["status"] == "opened"
    await wait_for_stage(stack, opened["case_id"], "AWAITING_KYC")
    case = await wait_for_stage(stack, opened["case_id"], "EXPIRED")

    assert case["key_status"] == "EXPIRED"
    decision = await gateway_allows(stack, key.key_id, "203.0.113.9")
    assert decision["allowed"] is False
    assert "expired" in decision["reason"]
    mailed = [m.to for m in stack.sendgrid.accepted]
    assert mailed.count(key.email) >= 2  # the warning, and the expiry notice


async def test_passed_kyc_then_quiet_probation_restores_key_for_whitelisted_ips_only(
    stack: RunningStack,
) -> None:
    key = await register_key(stack, "bithumb")
    opened = await raise_alert(stack, key, "high")
    await wait_for_stage(stack, opened["case_id"], "AWAITING_KYC")

    async with stack.http("kyc") as kyc:
        response = await kyc.post(
            f"/v1/cases/{opened['case_id']}/kyc", json={"passed": True, "reference": "kyc-1"}
        )
    assert response.is_success, response.text
    await wait_for_stage(stack, opened["case_id"], "PROBATION")
    case = await wait_for_stage(stack, opened["case_id"], "RESTORED")

    assert case["key_status"] == "ACTIVE"
    assert (await gateway_allows(stack, key.key_id, "203.0.113.20"))["allowed"] is True
    assert (await gateway_allows(stack, key.key_id, "198.51.100.7"))["allowed"] is False


async def test_officer_dismisses_case_with_a_reason(stack: RunningStack) -> None:
    key = await register_key(stack, "coinone")
    opened = await raise_alert(stack, key, "medium")
    await wait_for_stage(stack, opened["case_id"], "MONITORING")

    async with stack.http("officer") as officer:
        response = await officer.post(
            f"/v1/cases/{opened['case_id']}/actions/dismiss",
            json={"reason": "registered market maker"},
        )
    assert response.is_success, response.text
    case = await wait_for_stage(stack, opened["case_id"], "DISMISSED")

    assert case["actions"][-1]["actor"] == "kim"
    assert case["actions"][-1]["reason"] == "registered market maker"
    assert case["key_status"] == "ACTIVE"


async def test_quiet_monitoring_window_clears_case(stack: RunningStack) -> None:
    key = await register_key(stack, "korbit")
    opened = await raise_alert(stack, key, "low")

    case = await wait_for_stage(stack, opened["case_id"], "CLEARED")

    assert case["key_status"] == "ACTIVE"
    assert (await gateway_allows(stack, key.key_id, "203.0.113.5"))["allowed"] is True


async def test_repeated_alert_id_is_a_duplicate_and_a_new_one_attaches(
    stack: RunningStack,
) -> None:
    key = await register_key(stack, "gopax")
    opened = await raise_alert(stack, key, "medium", alert_id="sv-gopax-0001")

    again = await raise_alert(stack, key, "medium", alert_id="sv-gopax-0001")
    other = await raise_alert(stack, key, "low", alert_id="sv-gopax-0002")

    assert again == {"case_id": opened["case_id"], "status": "duplicate"}
    assert other == {"case_id": opened["case_id"], "status": "attached"}
    case = await case_of(stack, opened["case_id"])
    assert case["alerts"]["count"] == 2


async def test_calls_without_a_token_or_with_the_wrong_role_are_refused(
    stack: RunningStack,
) -> None:
    async with stack.http(None) as anonymous:
        assert (await anonymous.get("/v1/cases")).status_code == 401
    async with stack.http("surveillance") as surveillance:
        refused = await surveillance.get("/v1/cases")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    async with stack.http("gateway") as gateway:
        assert (await gateway.get("/v1/audit/verify")).status_code == 403


async def test_cases_are_found_by_stage_through_temporal_visibility(stack: RunningStack) -> None:
    key = await register_key(stack, "upbit")
    opened = await raise_alert(stack, key, "high")
    await wait_for_stage(stack, opened["case_id"], "AWAITING_KYC")

    found: list[str] = []
    async with stack.http("officer") as officer:
        for _ in range(30):  # visibility is eventually consistent
            page = (await officer.get("/v1/cases", params={"stage": "AWAITING_KYC"})).json()
            found = [c["case_id"] for c in page["cases"]]
            if opened["case_id"] in found:
                break
            await asyncio.sleep(0.5)
    assert opened["case_id"] in found
    query = f'CaseStage="AWAITING_KYC" AND KeyId="{key.key_id}"'
    ids = [w.id async for w in stack.temporal.list_workflows(query)]
    assert ids == [f"keycase-{key.key_id}"]


async def test_audit_chain_verifies_and_shows_the_case_history(stack: RunningStack) -> None:
    key = await register_key(stack, "bithumb")
    opened = await raise_alert(stack, key, "critical")
    await wait_for_stage(stack, opened["case_id"], "EXPIRED")

    async with stack.http("auditor") as auditor:
        verified = (await auditor.get("/v1/audit/verify")).json()
        rows = (await auditor.get(f"/v1/cases/{opened['case_id']}/audit")).json()

    assert verified["ok"] is True
    assert verified["first_bad_row"] is None
    assert verified["rows_checked"] >= len(rows) > 0
    assert rows  # the case's facts, each chained to the previous row


async def identities_in_history(stack: RunningStack, workflow_id: str) -> list[str]:
    """Which worker completed each workflow task of the case, in order."""
    history = await stack.temporal.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.workflow_task_completed_event_attributes.identity
        for event in history.events
        if event.HasField("workflow_task_completed_event_attributes")
    ]


async def test_two_workers_share_the_queue_and_one_finishes_the_others_case(
    stack: RunningStack,
) -> None:
    pids = {child.process.pid: child for child in stack.workers}
    polling = await poller_identities(stack.temporal, "keycase")
    assert {int(identity.split("@")[0]) for identity in polling} >= set(pids)

    key = await register_key(stack, "korbit")
    opened = await raise_alert(stack, key, "critical")
    await wait_for_stage(stack, opened["case_id"], "AWAITING_KYC")
    first = (await identities_in_history(stack, f"keycase-{key.key_id}"))[0]
    handler = pids[int(first.split("@")[0])]

    handler.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(handler.process.wait, 30) == 0  # a graceful stop

    await wait_for_stage(stack, opened["case_id"], "EXPIRED")
    last = (await identities_in_history(stack, f"keycase-{key.key_id}"))[-1]
    survivor = next(child for child in pids.values() if child is not handler)
    assert last.startswith(f"{survivor.process.pid}@")


async def test_api_stops_cleanly_on_sigterm(stack: RunningStack) -> None:
    stack.api_process.process.send_signal(signal.SIGTERM)

    # uvicorn shuts down gracefully, then re-raises the signal, so the status says SIGTERM.
    assert await asyncio.to_thread(stack.api_process.process.wait, 30) == -signal.SIGTERM
    assert "Application shutdown complete" in (stack.logs / "api.log").read_text()
