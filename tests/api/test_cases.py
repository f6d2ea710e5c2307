"""Cases over HTTP: read, listed through visibility, moved by KYC results and officers."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import get_case, open_case, wait_for_stage

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


async def test_passed_kyc_moves_case_to_probation_then_restored(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "high")
    await wait_for_stage(http, case_id, "AWAITING_KYC")

    response = await http.post(
        f"/v1/cases/{case_id}/kyc",
        json={"passed": True, "reference": "kyc-ref-1"},
        headers=auth(Role.KYC),
    )

    assert response.status_code == 202, response.text
    case = await wait_for_stage(http, case_id, "RESTORED")
    assert case["kyc_results"][0]["actor"] == "kyc-provider"
    assert case["kyc_results"][0]["reference"] == "kyc-ref-1"


async def test_kyc_result_must_be_a_real_boolean(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "high")

    response = await http.post(
        f"/v1/cases/{case_id}/kyc", json={"passed": "yes", "reference": "r"}, headers=auth(Role.KYC)
    )

    assert response.status_code == 422


async def test_officer_dismisses_with_a_reason_recorded_under_the_token_name(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "medium")
    await wait_for_stage(http, case_id, "MONITORING")

    response = await http.post(
        f"/v1/cases/{case_id}/actions/dismiss",
        json={"reason": "registered market maker"},
        headers=auth(Role.OFFICER),
    )

    assert response.status_code == 200, response.text
    assert response.json()["action"] == "dismiss"
    case = await wait_for_stage(http, case_id, "DISMISSED")
    assert (case["actions"][-1]["actor"], case["actions"][-1]["reason"]) == (
        "kim",
        "registered market maker",
    )
    assert case["key_status"] == "ACTIVE"


async def test_officer_assigns_extends_deadline_and_notes(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "high")
    case = await wait_for_stage(http, case_id, "AWAITING_KYC")
    later = datetime.fromisoformat(case["kyc_deadline"]) + timedelta(minutes=5)
    actions = f"/v1/cases/{case_id}/actions"

    assigned = await http.post(
        f"{actions}/assign", json={"reason": "mine", "assignee": "park"}, headers=auth(Role.OFFICER)
    )
    extended = await http.post(
        f"{actions}/extend-kyc-deadline",
        json={"reason": "owner abroad", "deadline": later.isoformat()},
        headers=auth(Role.OFFICER),
    )
    noted = await http.post(
        f"{actions}/note",
        json={"reason": "call", "text": "phoned owner"},
        headers=auth(Role.OFFICER),
    )

    assert [r.status_code for r in (assigned, extended, noted)] == [200, 200, 200]
    assert assigned.json()["assigned_to"] == "park"
    assert datetime.fromisoformat(extended.json()["kyc_deadline"]) == later
    case = await get_case(http, case_id)
    assert [a["action"] for a in case["actions"]] == ["assign", "extend_kyc_deadline", "add_note"]


async def test_action_the_case_refuses_is_409_with_the_workflow_s_reason(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "high")
    await wait_for_stage(http, case_id, "AWAITING_KYC")

    confirm = await http.post(
        f"/v1/cases/{case_id}/actions/confirm", json={"reason": "sure"}, headers=auth(Role.OFFICER)
    )
    past = await http.post(
        f"/v1/cases/{case_id}/actions/extend-kyc-deadline",
        json={"reason": "oops", "deadline": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        headers=auth(Role.OFFICER),
    )

    assert confirm.status_code == 409
    assert confirm.json()["error"] == {
        "code": "action_rejected",
        "message": "only a case in MONITORING can be confirmed; this one is AWAITING_KYC",
    }
    assert (past.status_code, past.json()["error"]["message"]) == (
        409,
        "the new deadline is in the past",
    )


async def test_action_without_reason_or_with_unknown_fields_is_422(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "medium")
    url = f"/v1/cases/{case_id}/actions/dismiss"

    empty = await http.post(url, json={"reason": ""}, headers=auth(Role.OFFICER))
    actor = await http.post(url, json={"reason": "x", "actor": "boss"}, headers=auth(Role.OFFICER))

    assert empty.status_code == actor.status_code == 422
    assert actor.json()["error"]["details"][0]["location"] == "body.actor"


async def test_only_officers_act_and_only_kyc_reports_results(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "medium")

    auditor_acts = await http.post(
        f"/v1/cases/{case_id}/actions/dismiss", json={"reason": "x"}, headers=auth(Role.AUDITOR)
    )
    officer_kyc = await http.post(
        f"/v1/cases/{case_id}/kyc",
        json={"passed": True, "reference": "r"},
        headers=auth(Role.OFFICER),
    )

    assert auditor_acts.status_code == officer_kyc.status_code == 403


async def test_input_to_a_closed_case_is_409_and_it_stays_readable(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "low")
    await wait_for_stage(http, case_id, "CLEARED")

    response = await http.post(
        f"/v1/cases/{case_id}/actions/note",
        json={"reason": "late", "text": "too late"},
        headers=auth(Role.OFFICER),
    )

    # Refused by the API once the run has ended, by the workflow while it winds down.
    assert response.status_code == 409
    assert response.json()["error"] in (
        {"code": "case_closed", "message": f"case {case_id} is closed and takes no more input"},
        {"code": "action_rejected", "message": "the case is CLEARED and takes no more actions"},
    )
    assert (await get_case(http, case_id))["stage"] == "CLEARED"


async def test_an_older_closed_case_stays_readable_after_a_new_one_opens(
    http: httpx.AsyncClient,
) -> None:
    key, first = await open_case(http, "low")
    await wait_for_stage(http, first, "CLEARED")
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
