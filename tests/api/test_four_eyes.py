"""Four eyes over HTTP: a high case's dismiss or expire-now waits for a second officer."""

import asyncio
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth, second_officer
from tests.api.support import get_case, open_case, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")


async def _waiting_case(http: httpx.AsyncClient) -> str:
    _, case_id = await open_case(http, "high")
    await wait_for_stage(http, case_id, "AWAITING_KYC")
    return case_id


async def _audit_types(http: httpx.AsyncClient, case_id: str) -> dict[str, dict[str, Any]]:
    rows = (await http.get(f"/v1/cases/{case_id}/audit", headers=auth(Role.AUDITOR))).json()
    return {row["event_type"]: row for row in rows}


async def _listed_waiting(http: httpx.AsyncClient, case_id: str) -> bool:
    for _ in range(50):  # visibility is eventually consistent
        listed = await http.get(
            "/v1/cases", params={"pending_approval": "true"}, headers=auth(Role.OFFICER)
        )
        assert listed.status_code == 200, listed.text
        if case_id in {c["case_id"] for c in listed.json()["cases"]}:
            return True
        await asyncio.sleep(0.2)
    return False


async def test_expire_now_waits_until_a_second_officer_approves_it(
    http: httpx.AsyncClient,
) -> None:
    case_id = await _waiting_case(http)
    actions = f"/v1/cases/{case_id}/actions"

    asked = await http.post(
        f"{actions}/expire-now", json={"reason": "lent to a bot"}, headers=auth(Role.OFFICER)
    )
    waiting = await get_case(http, case_id)
    listed = await _listed_waiting(http, case_id)
    own = await http.post(f"{actions}/approve", json={"reason": "me"}, headers=auth(Role.OFFICER))
    approved = await http.post(
        f"{actions}/approve", json={"reason": "agreed"}, headers=second_officer()
    )
    expired = await wait_for_stage(http, case_id, "EXPIRED")
    audit = await _audit_types(http, case_id)
    verified = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()

    assert asked.status_code == 202, asked.text
    assert asked.json()["pending_approval"]["requested_by"] == "kim"
    assert waiting["stage"] == "AWAITING_KYC"
    assert waiting["pending_approval"]["action"] == "expire_now"
    assert listed
    assert own.status_code == 409, own.text
    assert own.json()["error"] == {
        "code": "action_rejected",
        "message": "kim asked for expire_now and cannot approve it: a second officer must",
    }
    assert approved.status_code == 200, approved.text
    assert approved.json()["stage"] == "EXPIRED"
    assert (expired["actions"][-1]["actor"], expired["actions"][-1]["approved_by"]) == (
        "kim",
        "park",
    )
    assert expired["pending_approval"] is None
    assert audit["approval.requested"]["actor"] == "kim"
    assert audit["approval.approved"]["actor"] == "park"
    assert audit["approval.approved"]["payload"]["requested_by"] == "kim"
    assert verified["ok"] is True


async def test_a_second_officer_rejects_a_dismiss_and_the_case_goes_on(
    http: httpx.AsyncClient,
) -> None:
    case_id = await _waiting_case(http)
    actions = f"/v1/cases/{case_id}/actions"

    nothing = await http.post(
        f"{actions}/reject-pending", json={"reason": "no"}, headers=second_officer()
    )
    asked = await http.post(
        f"{actions}/dismiss", json={"reason": "market maker"}, headers=auth(Role.OFFICER)
    )
    rejected = await http.post(
        f"{actions}/reject-pending", json={"reason": "same IPs as a ring"}, headers=second_officer()
    )
    case = await get_case(http, case_id)
    audit = await _audit_types(http, case_id)

    assert nothing.status_code == 409, nothing.text
    assert "no action is waiting" in nothing.json()["error"]["message"]
    assert asked.status_code == 202, asked.text
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["pending_approval"] is None
    assert case["stage"] == "AWAITING_KYC" and case["pending_approval"] is None
    assert audit["approval.rejected"]["actor"] == "park"
    assert audit["approval.rejected"]["payload"]["decision_reason"] == "same IPs as a ring"


async def test_a_medium_case_is_dismissed_by_one_officer_at_once(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "medium")
    await wait_for_stage(http, case_id, "MONITORING")

    response = await http.post(
        f"/v1/cases/{case_id}/actions/dismiss", json={"reason": "maker"}, headers=auth(Role.OFFICER)
    )

    assert response.status_code == 200, response.text
    assert response.json()["pending_approval"] is None
    assert (await wait_for_stage(http, case_id, "DISMISSED"))["pending_approval"] is None
