"""What API tests do over and over: register a key, raise an alert, wait for a stage."""

import asyncio
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from api.auth import Role
from tests.alert_bodies import alert_body
from tests.api.conftest import auth

_numbers = itertools.count(1)
STAGE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Key:
    key_id: str
    account_id: str
    exchange: str


async def register_key(
    http: httpx.AsyncClient, exchange: str = "upbit", allowed_ips: list[str] | None = None
) -> Key:
    """A fresh account and key, whitelisted for 203.0.113.0/24 unless told otherwise."""
    suffix = uuid.uuid4().hex[:10]
    key = Key(f"key-{suffix}", f"acct-{suffix}", exchange)
    account = {
        "account_id": key.account_id,
        "email": f"owner-{suffix}@example.com",
        "phone": "+821012345678",
        "locale": "ko",
    }
    response = await http.post("/v1/accounts", json=account, headers=auth(Role.ADMIN))
    assert response.status_code == 200, response.text
    body = {
        "key_id": key.key_id,
        "account_id": key.account_id,
        "exchange": exchange,
        "permissions": ["read", "trade", "withdraw"],
        "allowed_ips": ["203.0.113.0/24"] if allowed_ips is None else allowed_ips,
    }
    response = await http.post("/v1/keys", json=body, headers=auth(Role.ADMIN))
    assert response.status_code == 201, response.text
    return key


def alert_for(key: Key, severity: str = "medium", alert_id: str | None = None) -> dict[str, Any]:
    """An alert body as surveillance sends it."""
    return alert_body(key, severity, alert_id)


async def raise_alert(http: httpx.AsyncClient, alert: dict[str, Any]) -> dict[str, Any]:
    """POST the alert; the answer must be 202."""
    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def open_case(http: httpx.AsyncClient, severity: str = "medium") -> tuple[Key, str]:
    """A registered key with a freshly opened case; returns the key and the case id."""
    key = await register_key(http)
    accepted = await raise_alert(http, alert_for(key, severity))
    assert accepted["status"] == "opened"
    return key, str(accepted["case_id"])


async def get_case(
    http: httpx.AsyncClient, case_id: str, role: Role = Role.OFFICER
) -> dict[str, Any]:
    response = await http.get(f"/v1/cases/{case_id}", headers=auth(role))
    assert response.status_code == 200, response.text
    case: dict[str, Any] = response.json()
    return case


async def wait_for_stage(http: httpx.AsyncClient, case_id: str, stage: str) -> dict[str, Any]:
    """The case once it has reached `stage` (fails after STAGE_WAIT_SECONDS)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STAGE_WAIT_SECONDS
    while (case := await get_case(http, case_id))["stage"] != stage:
        assert loop.time() < deadline, f"case still {case['stage']}, never {stage}"
        await asyncio.sleep(0.2)
    return case


async def wait_until_ended(http: httpx.AsyncClient, key_id: str, case_id: str) -> None:
    """Wait until the case's run has ended, not only reached a closing stage."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STAGE_WAIT_SECONDS
    while True:
        response = await http.get(
            "/v1/cases", params={"key_id": key_id}, headers=auth(Role.OFFICER)
        )
        assert response.status_code == 200, response.text
        runs = {c["case_id"]: c["running"] for c in response.json()["cases"]}
        if runs.get(case_id) is False:
            return
        assert loop.time() < deadline, f"case {case_id} still running"
        await asyncio.sleep(0.2)
