"""POST /v1/alerts: one case per key, opened, attached to, or recognised as a repeat."""

import asyncio

import httpx
import pytest

from api.auth import Role
from domain.ids import key_id_of_case
from tests.api.conftest import auth
from tests.api.support import (
    alert_for,
    get_case,
    raise_alert,
    register_key,
    wait_for_stage,
    wait_until_ended,
)

pytestmark = pytest.mark.usefixtures("worker")


async def test_first_alert_opens_a_case_and_the_next_attaches_to_it(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)

    opened = await raise_alert(http, alert_for(key, "medium"))
    attached = await raise_alert(http, alert_for(key, "low"))

    assert opened["status"] == "opened"
    assert attached == {"case_id": opened["case_id"], "status": "attached"}
    assert key_id_of_case(opened["case_id"]) == key.key_id
    case = await get_case(http, opened["case_id"])
    assert case["alerts"]["count"] == 2


async def test_repeated_alert_id_is_a_duplicate_of_the_original_case(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    alert = alert_for(key, "medium")
    opened = await raise_alert(http, alert)

    again = await raise_alert(http, alert)

    assert again == {"case_id": opened["case_id"], "status": "duplicate"}
    case = await get_case(http, opened["case_id"])
    assert case["alerts"]["count"] == 1


async def test_same_alert_id_arriving_concurrently_counts_once(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    alert = alert_for(key, "medium")

    answers = await asyncio.gather(*(raise_alert(http, alert) for _ in range(4)))

    statuses = sorted(answer["status"] for answer in answers)
    assert statuses == ["duplicate", "duplicate", "duplicate", "opened"]
    assert len({answer["case_id"] for answer in answers}) == 1
    case = await get_case(http, answers[0]["case_id"])
    assert case["alerts"]["count"] == 1


async def test_repeat_after_the_case_closed_does_not_open_a_new_case(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    alert = alert_for(key, "low")
    opened = await raise_alert(http, alert)
    await wait_for_stage(http, opened["case_id"], "CLEARED")

    again = await raise_alert(http, alert)
    await wait_until_ended(http, key.key_id, opened["case_id"])  # see test_next_case.py
    fresh = await raise_alert(http, alert_for(key, "low"))

    assert again == {"case_id": opened["case_id"], "status": "duplicate"}
    assert fresh["status"] == "opened"
    assert fresh["case_id"] != opened["case_id"]


async def test_alert_for_an_unregistered_key_is_404(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"key_id": "key-never-registered"}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_key"


async def test_alert_naming_another_account_than_the_key_s_is_409(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"account_id": "acct-someone-else"}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "key_account_mismatch"


async def test_alert_with_unknown_fields_or_bad_values_is_422_naming_them(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"severity": "apocalyptic", "source": "radar-7"}
    alert["observed_at"] = "2026-01-05T09:00:00"  # no offset

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {d["location"] for d in error["details"]} == {
        "body.severity",
        "body.source",
        "body.observed_at",
    }


async def test_alert_with_oversized_evidence_is_422(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"evidence": {"trades": ["x" * 100] * 100}}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 422
    assert "evidence" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("evidence", "path"),
    [
        ({"email": "owner@example.com"}, "evidence.email"),
        (
            {"hits": [{"ip": "198.51.100.4"}, {"User_Phone": "+821012345678"}]},
            "evidence.hits[1].User_Phone",
        ),
        ({"session": {"API-Secret": "s3cr3t"}}, "evidence.session.API-Secret"),
        ({"login": {"Password": "hunter2"}}, "evidence.login.Password"),
    ],
)
async def test_alert_whose_evidence_names_a_contact_or_secret_is_422_naming_the_path(
    http: httpx.AsyncClient, evidence: dict[str, object], path: str
) -> None:
    key = await register_key(http)

    response = await http.post(
        "/v1/alerts", json=alert_for(key) | {"evidence": evidence}, headers=auth(Role.SURVEILLANCE)
    )
    cases = await http.get("/v1/cases", params={"key_id": key.key_id}, headers=auth(Role.OFFICER))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert path in response.json()["error"]["message"]
    assert cases.json()["cases"] == []  # refused before any case was opened


async def test_only_surveillance_may_raise_alerts(http: httpx.AsyncClient) -> None:
    key = await register_key(http)

    response = await http.post("/v1/alerts", json=alert_for(key), headers=auth(Role.OFFICER))

    assert response.status_code == 403


async def test_alert_on_an_expired_key_is_409(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    opened = await raise_alert(http, alert_for(key, "critical"))
    await wait_for_stage(http, opened["case_id"], "EXPIRED")

    response = await http.post(
        "/v1/alerts", json=alert_for(key, "low"), headers=auth(Role.SURVEILLANCE)
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "key_expired"
