"""Which exchanges intake takes: the DAXA members and those the policy file names."""

from datetime import datetime, timedelta

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import alert_for, get_case, raise_alert, register_key, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")


async def test_a_key_on_an_unknown_exchange_is_refused_with_the_reason(
    http: httpx.AsyncClient,
) -> None:
    account = {"account_id": "acct-newex", "email": "n@example.com", "phone": "+821012345678"}
    assert (await http.post("/v1/accounts", json=account, headers=auth(Role.ADMIN))).is_success
    body = {
        "key_id": "key-newex-1",
        "account_id": "acct-newex",
        "exchange": "newex",
        "permissions": ["read", "trade"],
        "allowed_ips": ["203.0.113.7"],
    }

    response = await http.post("/v1/keys", json=body, headers=auth(Role.ADMIN))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unknown_exchange"
    assert "'newex' is not known" in error["message"]
    assert "[exchange.newex.sender]" in error["message"]
    lookup = await http.get("/v1/keys/key-newex-1", headers=auth(Role.OFFICER))
    assert lookup.status_code == 404  # nothing half-done


async def test_an_alert_on_an_unknown_exchange_is_refused_and_opens_nothing(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    alert = alert_for(key, "high") | {"exchange": "newex"}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_exchange"
    cases = await http.get("/v1/cases", params={"exchange": "newex"}, headers=auth(Role.OFFICER))
    assert cases.status_code == 200 and cases.json()["cases"] == []


async def test_a_case_on_an_exchange_of_the_file_pins_its_effective_policy(
    http: httpx.AsyncClient,
) -> None:
    hanbit, upbit = await register_key(http, "hanbit"), await register_key(http, "upbit")
    opened = [await raise_alert(http, alert_for(key, "high")) for key in (hanbit, upbit)]

    cases = [await wait_for_stage(http, a["case_id"], "AWAITING_KYC") for a in opened]

    windows = [_deadline(c) - _requested(c) for c in cases]
    assert windows == [timedelta(minutes=20), timedelta(minutes=10)]
    assert [(c["policy_version"], c["policy_exchange"]) for c in cases] == [
        ("api-tests-1", "hanbit"),
        ("api-tests-1", "upbit"),
    ]
    assert (await get_case(http, opened[0]["case_id"]))["exchange"] == "hanbit"


def _deadline(case: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(case["kyc_deadline"]))


def _requested(case: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(case["kyc_requested_at"]))
