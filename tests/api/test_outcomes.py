"""`GET /v1/outcomes`: surveillance reads what became of its alerts, on its exchanges only."""

from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth, upbit_only
from tests.api.support import alert_for, open_case, raise_alert, register_key, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")


async def _all_outcomes(http: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    outcomes: list[dict[str, Any]] = []
    cursor = 0
    while True:
        response = await http.get(
            "/v1/outcomes", params={"since": cursor, "limit": 2}, headers=headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        outcomes += page["outcomes"]
        if not page["more"]:
            return outcomes
        assert page["cursor"] > cursor
        cursor = page["cursor"]


async def _dismissed(http: httpx.AsyncClient, exchange: str) -> str:
    key = await register_key(http, exchange)
    accepted = await raise_alert(http, alert_for(key, "medium"))
    case_id = str(accepted["case_id"])
    await wait_for_stage(http, case_id, "MONITORING")
    response = await http.post(
        f"/v1/cases/{case_id}/actions/dismiss",
        json={"reason": "registered market maker"},
        headers=auth(Role.OFFICER),
    )
    assert response.is_success, response.text
    await wait_for_stage(http, case_id, "DISMISSED")
    return case_id


async def test_each_dismissed_alert_is_an_outcome_with_the_officers_reason(
    http: httpx.AsyncClient,
) -> None:
    upbit, bithumb = await _dismissed(http, "upbit"), await _dismissed(http, "bithumb")

    everything = await _all_outcomes(http, auth(Role.SURVEILLANCE))
    scoped = await _all_outcomes(http, upbit_only(Role.SURVEILLANCE))

    mine = {o["case_id"]: o for o in everything if o["case_id"] in (upbit, bithumb)}
    assert {(o["exchange"], o["outcome"], o["reason"], o["decided_by"]) for o in mine.values()} == {
        ("upbit", "dismissed", "registered market maker", "kim"),
        ("bithumb", "dismissed", "registered market maker", "kim"),
    }
    seqs = [o["seq"] for o in everything]
    assert seqs == sorted(set(seqs))  # in order, no repeats
    assert {o["exchange"] for o in scoped} == {"upbit"}
    assert upbit in {o["case_id"] for o in scoped} and bithumb not in {o["case_id"] for o in scoped}


async def test_a_cursor_past_the_end_is_an_empty_page_and_other_roles_are_refused(
    http: httpx.AsyncClient,
) -> None:
    await open_case(http)
    past = await http.get("/v1/outcomes", params={"since": 2**62}, headers=auth(Role.SURVEILLANCE))
    officer = await http.get("/v1/outcomes", headers=auth(Role.OFFICER))

    assert past.status_code == 200
    assert past.json() == {"outcomes": [], "cursor": 2**62, "more": False}
    assert officer.status_code == 403
