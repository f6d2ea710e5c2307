"""The audit log over HTTP: a case's chained rows and the verification of the whole chain."""

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import open_case, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")


async def test_expired_case_has_chained_audit_rows_and_the_chain_verifies(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await open_case(http, "critical")
    await wait_for_stage(http, case_id, "EXPIRED")

    rows = (await http.get(f"/v1/cases/{case_id}/audit", headers=auth(Role.AUDITOR))).json()
    verified = (await http.get("/v1/audit/verify", headers=auth(Role.AUDITOR))).json()

    assert {row["case_id"] for row in rows} == {case_id}
    assert "alert.received" in {row["event_type"] for row in rows}
    assert all(len(row["row_hash"]) == 64 for row in rows)
    assert [row["seq"] for row in rows] == sorted(row["seq"] for row in rows)
    assert verified["ok"] is True
    assert verified["first_bad_row"] is None
    assert verified["rows_checked"] >= len(rows) > 0


async def test_audit_rows_page_after_a_sequence_number(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http, "critical")
    await wait_for_stage(http, case_id, "EXPIRED")
    url = f"/v1/cases/{case_id}/audit"

    everything = (await http.get(url, headers=auth(Role.OFFICER))).json()
    first = (await http.get(url, params={"limit": 2}, headers=auth(Role.OFFICER))).json()
    rest = (
        await http.get(url, params={"after_seq": first[-1]["seq"]}, headers=auth(Role.OFFICER))
    ).json()

    assert len(everything) > 2
    assert first + rest == everything


async def test_only_auditors_verify_the_chain(http: httpx.AsyncClient) -> None:
    for role in (Role.OFFICER, Role.GATEWAY, Role.ADMIN):
        response = await http.get("/v1/audit/verify", headers=auth(role))
        assert response.status_code == 403


async def test_audit_of_a_malformed_case_id_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/cases/no-dot-here/audit", headers=auth(Role.AUDITOR))

    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_case")
