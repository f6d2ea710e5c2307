"""Exchange-scoped tokens: every role and endpoint on another exchange's key is 403 or 404
(404 exactly as for an unknown id), and the same token works on its own exchange."""

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.auth import Role, TokenTable
from tests.api.conftest import auth, upbit_only
from tests.api.support import Key, alert_for, open_case, raise_alert, register_key

pytestmark = pytest.mark.usefixtures("worker")


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {key} and {case} are filled in
    body: dict[str, Any] | None
    role: Role  # the role the endpoint admits


CALLS = [
    Call("GET", "/v1/keys/{key}", None, Role.OFFICER),
    Call("GET", "/v1/keys/{key}", None, Role.AUDITOR),
    Call("PUT", "/v1/keys/{key}/allowed-ips", {"allowed_ips": ["198.51.100.7"]}, Role.ADMIN),
    Call("GET", "/v1/cases/{case}", None, Role.OFFICER),
    Call("GET", "/v1/cases/{case}", None, Role.AUDITOR),
    Call("GET", "/v1/cases/{case}/audit", None, Role.AUDITOR),
    Call("GET", "/v1/cases/{case}/report", None, Role.AUDITOR),
    Call("GET", "/v1/cases/{case}/report", None, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/kyc", {"passed": False, "reference": "r-1"}, Role.KYC),
    Call("POST", "/v1/cases/{case}/actions/note", {"reason": "r", "text": "t"}, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/actions/confirm", {"reason": "seen"}, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/actions/dismiss", {"reason": "fine"}, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/actions/expire-now", {"reason": "bad"}, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/actions/approve", {"reason": "ok"}, Role.OFFICER),
    Call("POST", "/v1/cases/{case}/actions/reject-pending", {"reason": "no"}, Role.OFFICER),
    Call(
        "POST", "/v1/cases/{case}/actions/assign", {"reason": "r", "assignee": "kim"}, Role.OFFICER
    ),
    Call("POST", "/v1/cases/{case}/appeal", {"statement": "not mine"}, Role.SUPPORT),
]


def _fill(call: Call, key_id: str, case_id: str) -> str:
    return call.path.format(key=key_id, case=case_id)


async def _send(
    http: httpx.AsyncClient, call: Call, path: str, headers: dict[str, str]
) -> httpx.Response:
    return await http.request(call.method, path, json=call.body, headers=headers)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def foreign_case(app: FastAPI) -> tuple[Key, str]:
    """One bithumb key with an open case, shared by the matrix (it only ever gets refused)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as http:
        key = await register_key(http, exchange="bithumb")
        accepted = await raise_alert(http, alert_for(key, "medium"))
    return key, str(accepted["case_id"])


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.role.value}-{c.method}-{c.path}")
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
async def test_a_scoped_token_of_any_role_cannot_reach_another_exchange(
    http: httpx.AsyncClient, foreign_case: tuple[Key, str], call: Call, role: Role
) -> None:
    key, case_id = foreign_case
    unknown_key, unknown_case = f"{key.key_id}x", f"{key.key_id}x.{case_id.split('.')[1]}"

    foreign = await _send(http, call, _fill(call, key.key_id, case_id), upbit_only(role))
    unknown = await _send(http, call, _fill(call, unknown_key, unknown_case), upbit_only(role))

    assert foreign.status_code in (403, 404), foreign.text
    if role is call.role:  # the role is admitted: the exchange is what hides the key
        assert foreign.status_code == 404, foreign.text
    if foreign.status_code == 404:  # exactly an unknown id's answer, with the id swapped
        assert foreign.text == unknown.text.replace(unknown_case, case_id).replace(
            unknown_key, key.key_id
        )


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c.role.value}-{c.method}-{c.path}")
async def test_the_same_scoped_token_acts_on_its_own_exchange(
    http: httpx.AsyncClient, call: Call
) -> None:
    key, case_id = await open_case(http)  # upbit

    response = await _send(http, call, _fill(call, key.key_id, case_id), upbit_only(call.role))

    # Reached: done, or refused by the case's own rules (409), never hidden (404/403).
    assert response.status_code in (200, 202, 409), response.text
    if response.status_code == 409:  # an open case cannot be appealed: it did not expire
        assert response.json()["error"]["code"] in ("action_rejected", "appeal_refused")


async def test_scoped_surveillance_gateway_and_admin_touch_only_their_exchange(
    http: httpx.AsyncClient,
) -> None:
    own, foreign = await register_key(http), await register_key(http, exchange="bithumb")
    never = {"key_id": "key-never-registered", "ip": "203.0.113.9", "permission": "trade"}

    alert = await http.post(
        "/v1/alerts", json=alert_for(foreign), headers=upbit_only(Role.SURVEILLANCE)
    )
    own_alert = await http.post(
        "/v1/alerts", json=alert_for(own), headers=upbit_only(Role.SURVEILLANCE)
    )
    asked = {"ip": "203.0.113.9", "permission": "trade"}
    gate = await http.post(
        f"/v1/keys/{foreign.key_id}/authorize", json=asked, headers=upbit_only(Role.GATEWAY)
    )
    gate_unknown = await http.post(
        f"/v1/keys/{never['key_id']}/authorize", json=asked, headers=upbit_only(Role.GATEWAY)
    )
    gate_own = await http.post(
        f"/v1/keys/{own.key_id}/authorize", json=asked, headers=upbit_only(Role.GATEWAY)
    )
    body = {
        "key_id": "key-scope-reg",
        "account_id": own.account_id,
        "exchange": "bithumb",
        "permissions": ["read"],
        "allowed_ips": ["203.0.113.0/24"],
    }
    register = await http.post("/v1/keys", json=body, headers=upbit_only(Role.ADMIN))

    assert alert.status_code == 404 and alert.json()["error"]["code"] == "unknown_key"
    assert own_alert.status_code == 202
    assert gate.json() == gate_unknown.json() == {"allowed": False, "reason": "unknown_key"}
    assert gate_own.json()["allowed"] is True
    assert register.status_code == 403


async def test_a_scoped_list_shows_only_its_exchanges_cases(http: httpx.AsyncClient) -> None:
    _, own_case = await open_case(http)
    foreign = await register_key(http, exchange="bithumb")
    await raise_alert(http, alert_for(foreign))

    for _ in range(50):  # visibility is eventually consistent: wait for the new case
        scoped = await http.get(
            "/v1/cases", params={"limit": 200}, headers=upbit_only(Role.OFFICER)
        )
        if own_case in {c["case_id"] for c in scoped.json()["cases"]}:
            break
        await asyncio.sleep(0.2)
    everyone = await http.get("/v1/cases", params={"limit": 200}, headers=auth(Role.OFFICER))
    asked_foreign = await http.get(
        "/v1/cases", params={"exchange": "bithumb"}, headers=upbit_only(Role.OFFICER)
    )

    assert {c["exchange"] for c in scoped.json()["cases"]} == {"upbit"}
    assert own_case in {c["case_id"] for c in scoped.json()["cases"]}
    assert "bithumb" in {c["exchange"] for c in everyone.json()["cases"]}
    assert asked_foreign.json()["cases"] == []


async def test_scoped_tokens_cannot_use_the_codec_server(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/codec/decode", json={"payloads": []}, headers=upbit_only(Role.OFFICER)
    )

    assert response.status_code == 403


def test_the_fourth_field_scopes_a_token_and_a_colon_token_still_parses() -> None:
    table = TokenTable.parse("officer:kim:t0k3n-abc:upbit|bithumb,auditor:lee:a:b:C")

    kim, lee = table.principal_for("t0k3n-abc"), table.principal_for("a:b:C")

    assert kim is not None and kim.exchanges == frozenset({"upbit", "bithumb"})
    assert lee is not None and lee.exchanges is None
    assert table.principal_for("t0k3n-abc:upbit|bithumb") is None
