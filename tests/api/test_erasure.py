"""Erasure over HTTP: an admin erases an account's contacts once its cases are closed, and
a later case of its key tells officers that no notice can reach the owner."""

import asyncio
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth, upbit_only
from tests.api.support import (
    Key,
    alert_for,
    get_case,
    open_case,
    raise_alert,
    register_key,
    wait_for_stage,
    wait_until_ended,
)

pytestmark = pytest.mark.usefixtures("worker")


async def _erase(http: httpx.AsyncClient, account_id: str, **headers: str) -> httpx.Response:
    return await http.post(f"/v1/accounts/{account_id}/erase", headers=headers or auth(Role.ADMIN))


async def _until(
    http: httpx.AsyncClient, case_id: str, ready: Any, tries: int = 150
) -> dict[str, Any]:
    for _ in range(tries):
        case = await get_case(http, case_id)
        if ready(case):
            return case
        await asyncio.sleep(0.2)
    raise AssertionError(f"case never got there: {case}")


async def _closed_case(http: httpx.AsyncClient) -> tuple[Key, str]:
    key, case_id = await open_case(http, "medium")
    await wait_for_stage(http, case_id, "MONITORING")
    refused = await _erase(http, key.account_id)
    dismissed = await http.post(
        f"/v1/cases/{case_id}/actions/dismiss", json={"reason": "maker"}, headers=auth(Role.OFFICER)
    )
    assert dismissed.status_code == 200, dismissed.text
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "cases_open"
    assert case_id in refused.json()["error"]["message"]
    await wait_for_stage(http, case_id, "DISMISSED")
    await wait_until_ended(http, key.key_id, case_id)  # the next alert opens a case of its own
    return key, case_id


async def test_erased_account_keeps_its_key_and_its_next_case_waits_for_an_officer(
    http: httpx.AsyncClient,
) -> None:
    key, _ = await _closed_case(http)

    erased = await _erase(http, key.account_id)
    again = await _erase(http, key.account_id)
    contacts = {"account_id": key.account_id, "email": "new@example.com", "phone": "+821011112222"}
    re_registered = await http.post("/v1/accounts", json=contacts, headers=auth(Role.ADMIN))
    kept = await http.get(f"/v1/keys/{key.key_id}", headers=auth(Role.OFFICER))
    nxt = await raise_alert(http, alert_for(key, "high"))
    assert nxt["status"] == "opened"
    case = await _until(http, nxt["case_id"], lambda c: c["stage"] == "OWNER_UNREACHABLE")
    audit = (await http.get(f"/v1/cases/{nxt['case_id']}/audit", headers=auth(Role.AUDITOR))).json()
    verified = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()

    assert erased.status_code == 200, erased.text
    assert erased.json()["erased_now"] is True and erased.json()["key_ids"] == [key.key_id]
    assert again.status_code == 200 and again.json()["erased_now"] is False
    assert again.json()["erased_at"] == erased.json()["erased_at"]
    assert re_registered.status_code == 409
    assert re_registered.json()["error"]["code"] == "account_erased"
    assert kept.status_code == 200
    warning = next(n for n in case["notices"] if n["notice_id"] == "warning")
    errors = {c["channel"]: c["error"] for c in warning["channels"]}
    assert errors == {
        "email": "no email contact: the account's contacts were erased",
        "sms": "no sms contact: the account's contacts were erased",
    }
    assert case["stages"][-1]["reason"] == "no channel reached the owner; an officer decides"
    assert "example.com" not in str(audit)
    assert verified["ok"] is True


async def test_a_scoped_admin_erases_only_accounts_of_its_exchanges(
    http: httpx.AsyncClient,
) -> None:
    foreign = await register_key(http, exchange="bithumb")
    own = await register_key(http)

    hidden = await _erase(http, foreign.account_id, **upbit_only(Role.ADMIN))
    unknown = await _erase(http, "acct-never-registered", **upbit_only(Role.ADMIN))
    allowed = await _erase(http, own.account_id, **upbit_only(Role.ADMIN))
    nobody = await _erase(http, "acct-never-registered")

    assert hidden.status_code == 404, hidden.text
    assert hidden.text == unknown.text.replace("acct-never-registered", foreign.account_id)
    assert allowed.status_code == 200, allowed.text
    assert nobody.status_code == 404 and nobody.json()["error"]["code"] == "unknown_account"
