"""Reading cases over HTTP: one case from its workflow, many through visibility."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import (
    get_case,
    open_case,
    register_key,
    wait_for_stage,
    wait_until_ended,
)

pytestmark = pytest.mark.usefixtures("worker")


async def test_case_shows_stage_severity_alerts_and_policy(http: httpx.AsyncClient) -> None:
    key, case_id = await open_case(http, "medium")

    case = await wait_for_stage(http, case_id, "MONITORING")

    assert (case["case_id"], case["key_id"], case["exchange"]) == (case_id, key.key_id, "upbit")
    assert case["severity"] == "medium"
    assert case["alerts"]["count"] == 1
    assert case["policy_version"] == "api-tests-1"
    assert case["key_status"] == "MONITORED"


async def test_auditor_reads_the_case_too_but_not_providers_texts(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "high")
    officer_view = await wait_for_stage(http, case_id, "AWAITING_KYC")

    auditor_view = await get_case(http, case_id, Role.AUDITOR)

    assert auditor_view["stage"] == officer_view["stage"]
    assert [n["notice_id"] for n in auditor_view["notices"]] == [
        n["notice_id"] for n in officer_view["notices"]
    ]
    channels = [c for n in auditor_view["notices"] for c in n["channels"]]
    assert channels and all(c["provider_message_id"] is None for c in channels)


async def test_malformed_or_unknown_case_id_is_404(http: httpx.AsyncClient) -> None:
    malformed = await http.get("/v1/cases/not-a-case", headers=auth(Role.OFFICER))
    unknown = await http.get("/v1/cases/key-nobody.0000-run", headers=auth(Role.OFFICER))

    assert (malformed.status_code, malformed.json()["error"]["code"]) == (404, "unknown_case")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_case")


async def test_cases_are_listed_by_stage_through_temporal_visibility(
    http: httpx.AsyncClient,
) -> None:
    key, case_id = await open_case(http, "high")
    await wait_for_stage(http, case_id, "AWAITING_KYC")

    found: list[dict[str, object]] = []
    for _ in range(50):  # visibility follows the workflow's upserts with a short delay
        response = await http.get(
            "/v1/cases",
            params={"stage": "AWAITING_KYC", "exchange": "upbit", "key_id": key.key_id},
            headers=auth(Role.AUDITOR),
        )
        assert response.status_code == 200, response.text
        found = response.json()["cases"]
        if found:
            break
        await asyncio.sleep(0.2)

    assert [(c["case_id"], c["stage"], c["severity"]) for c in found] == [
        (case_id, "AWAITING_KYC", "high")
    ]
    assert found[0]["running"] is True


async def test_case_list_pages_with_a_cursor(http: httpx.AsyncClient) -> None:
    for _ in range(3):
        await open_case(http, "medium")
    await asyncio.sleep(1.5)  # let visibility catch up

    first = (await http.get("/v1/cases?limit=2", headers=auth(Role.OFFICER))).json()
    second = (
        await http.get(
            "/v1/cases",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=auth(Role.OFFICER),
        )
    ).json()

    assert len(first["cases"]) == 2
    assert first["next_cursor"]
    assert second["cases"]
    assert not {c["case_id"] for c in first["cases"]} & {c["case_id"] for c in second["cases"]}


async def test_an_older_closed_case_stays_readable_after_a_new_one_opens(
    http: httpx.AsyncClient,
) -> None:
    key, first = await open_case(http, "low")
    await wait_for_stage(http, first, "CLEARED")
    # The stage shows CLEARED a moment before the run ends; an alert in between still
    # reaches the closing run and is recorded there (a known limit: README, Architecture).
    await wait_until_ended(http, key.key_id, first)
    response = await http.post(
        "/v1/alerts",
        json={**_alert(key.key_id, key.account_id), "severity": "medium"},
        headers=auth(Role.SURVEILLANCE),
    )
    second = response.json()["case_id"]

    assert second != first
    assert (await get_case(http, first))["stage"] == "CLEARED"
    assert (await wait_for_stage(http, second, "MONITORING"))["case_id"] == second


def _alert(key_id: str, account_id: str) -> dict[str, str]:
    return {
        "alert_id": f"sv-{key_id}-again",
        "key_id": key_id,
        "account_id": account_id,
        "exchange": "upbit",
        "kind": "ip_anomaly",
        "severity": "low",
        "observed_at": datetime.now(UTC).isoformat(),
    }


async def test_officers_can_filter_cases_whose_owner_no_notice_reached(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)

    response = await http.get(
        "/v1/cases",
        params={"stage": "OWNER_UNREACHABLE", "key_id": key.key_id},
        headers=auth(Role.OFFICER),
    )
    schema = (await http.get("/openapi.json")).text

    assert response.status_code == 200, response.text
    assert response.json()["cases"] == []
    assert '"OWNER_UNREACHABLE"' in schema
