"""Input to cases over HTTP: KYC results and officer actions, and what the case refuses."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import get_case, open_case, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")


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
    assert [s["stage"] for s in case["stages"]][-2:] == ["PROBATION", "RESTORED"]
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

    # Refused by the API once the run has ended, by the workflow while it winds down, or
    # by the API again when the run ended between its look and the update.
    assert response.status_code == 409
    assert response.json()["error"] in (
        {"code": "case_closed", "message": f"case {case_id} is closed and takes no more input"},
        {"code": "action_rejected", "message": "the case is CLEARED and takes no more actions"},
        {"code": "case_closed", "message": f"case {case_id} closed meanwhile"},
    )
    assert (await get_case(http, case_id))["stage"] == "CLEARED"
