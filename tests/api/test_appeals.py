"""Appeals over the API: filed by support for the owner, decided by an officer, and the
replacement key an upheld appeal allows (the tests' policy: window PT10M, cool-down PT2S)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from api.auth import Role
from config.settings import Settings
from domain import audit_events
from domain.case import CaseState, StageChange
from domain.stages import CaseStage
from store.audit import append_facts
from store.port import Store
from tests.api.conftest import POLICY, auth, upbit_only
from tests.api.support import Key, open_case, register_key, wait_for_stage

pytestmark = pytest.mark.usefixtures("worker")
STATEMENT = "The second address is my own office server; I never lent the key."


async def _expired_case(http: httpx.AsyncClient) -> tuple[Key, str]:
    key, case_id = await open_case(http)
    response = await http.post(
        f"/v1/cases/{case_id}/actions/expire-now",
        json={"reason": "confirmed lending"},
        headers=auth(Role.OFFICER),
    )
    assert response.status_code == 200, response.text
    await wait_for_stage(http, case_id, "EXPIRED")
    return key, case_id


async def _appeal(
    http: httpx.AsyncClient, case_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(
        f"/v1/cases/{case_id}/appeal",
        json={"statement": STATEMENT},
        headers=headers or auth(Role.SUPPORT),
    )


async def _decide(
    http: httpx.AsyncClient, case_id: str, decision: str, reason: str
) -> httpx.Response:
    return await http.post(
        f"/v1/cases/{case_id}/appeal/{decision}",
        json={"reason": reason},
        headers=auth(Role.OFFICER),
    )


def _replacement(old: Key, key_id: str | None = None) -> dict[str, Any]:
    return {
        "key_id": key_id or f"{old.key_id}-new",
        "account_id": old.account_id,
        "exchange": old.exchange,
        "permissions": ["read", "trade"],
        "allowed_ips": ["198.51.100.7"],
        "replaces": old.key_id,
    }


async def _authorize(http: httpx.AsyncClient, key_id: str, ip: str) -> dict[str, Any]:
    response = await http.post(
        f"/v1/keys/{key_id}/authorize",
        json={"ip": ip, "permission": "trade"},
        headers=auth(Role.GATEWAY),
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _audit_types(http: httpx.AsyncClient, case_id: str) -> list[str]:
    response = await http.get(f"/v1/cases/{case_id}/audit", headers=auth(Role.AUDITOR))
    assert response.status_code == 200, response.text
    return [row["event_type"] for row in response.json()]


async def _until_listed(http: httpx.AsyncClient, stage: str, case_id: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            response = await http.get(
                "/v1/cases", params={"stage": stage, "limit": 200}, headers=auth(Role.OFFICER)
            )
            assert response.status_code == 200, response.text
            found = [c for c in response.json()["cases"] if c["case_id"] == case_id]
            if found:
                listed: dict[str, Any] = found[0]
                return listed
            await asyncio.sleep(0.2)


async def test_upheld_appeal_allows_a_replacement_key_after_the_cooldown(
    http: httpx.AsyncClient,
) -> None:
    old, case_id = await _expired_case(http)

    filed = await _appeal(http, case_id)
    assert filed.status_code == 201, filed.text
    assert filed.json()["status"] == "review" and filed.json()["filed_by"] == "help-desk"
    listed = await _until_listed(http, "APPEAL_REVIEW", case_id)
    assert listed["key_id"] == old.key_id and listed["running"] is True
    again = await _appeal(http, case_id, auth(Role.OFFICER))
    assert again.status_code == 409 and again.json()["error"]["code"] == "appeal_exists"
    early = await http.post("/v1/keys", json=_replacement(old), headers=auth(Role.ADMIN))
    assert early.status_code == 409, early.text
    assert "still under review" in early.json()["error"]["message"]

    upheld = await _decide(http, case_id, "uphold", "office address confirmed by phone")
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld" and upheld.json()["decided_by"] == "kim"
    cooling = await http.post("/v1/keys", json=_replacement(old), headers=auth(Role.ADMIN))
    assert cooling.status_code == 409, cooling.text
    assert "may be registered from" in cooling.json()["error"]["message"]
    await asyncio.sleep(2.2)  # the tests' cool-down, PT2S
    created = await http.post("/v1/keys", json=_replacement(old), headers=auth(Role.ADMIN))
    assert created.status_code == 201, created.text

    new_key = created.json()["key_id"]
    assert (await _authorize(http, new_key, "198.51.100.7"))["allowed"] is True
    outside = await _authorize(http, new_key, "203.0.113.9")
    assert outside == {"allowed": False, "reason": "ip_not_whitelisted"}
    assert (await _authorize(http, old.key_id, "203.0.113.9"))["reason"] == "expired"
    second = await http.post(
        "/v1/keys", json=_replacement(old, f"{old.key_id}-2nd"), headers=auth(Role.ADMIN)
    )
    assert second.status_code == 409 and "already replaced" in second.json()["error"]["message"]
    appeal = await http.get(f"/v1/cases/{case_id}/appeal", headers=auth(Role.OFFICER))
    assert appeal.json()["replacement_key_id"] == new_key
    assert appeal.json()["statement"] == STATEMENT
    hidden = await http.get(f"/v1/cases/{case_id}/appeal", headers=auth(Role.AUDITOR))
    assert hidden.json()["statement"] is None
    await _until_listed(http, "APPEAL_UPHELD", case_id)
    types = await _audit_types(http, case_id)
    for fact in ("appeal.filed", "appeal.upheld", "key.replaced"):
        assert types.count(fact) == 1, types
    assert types.index("appeal.upheld") < types.index("key.replaced")


async def test_rejected_appeal_refuses_the_replacement_with_the_reason(
    http: httpx.AsyncClient,
) -> None:
    old, case_id = await _expired_case(http)
    assert (await _appeal(http, case_id)).status_code == 201

    rejected = await _decide(http, case_id, "reject", "lent to a bot operator")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    await asyncio.sleep(2.2)  # past any cool-down: it is the rejection that refuses
    refused = await http.post("/v1/keys", json=_replacement(old), headers=auth(Role.ADMIN))

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "replacement_refused"
    assert "rejected by kim: lent to a bot operator" in refused.json()["error"]["message"]
    missing = await http.get(f"/v1/keys/{old.key_id}-new", headers=auth(Role.OFFICER))
    assert missing.status_code == 404
    late = await _decide(http, case_id, "uphold", "second thoughts")
    assert late.status_code == 409, late.text
    assert "a decision is final" in late.json()["error"]["message"]
    assert "appeal.rejected" in await _audit_types(http, case_id)


async def test_appeal_of_a_case_that_did_not_expire_is_409(http: httpx.AsyncClient) -> None:
    _, case_id = await open_case(http)

    response = await _appeal(http, case_id)

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "appeal_refused"
    assert "is MONITORING, not EXPIRED" in response.json()["error"]["message"]


async def test_replacement_of_a_key_never_appealed_is_409(http: httpx.AsyncClient) -> None:
    old, _ = await _expired_case(http)

    response = await http.post("/v1/keys", json=_replacement(old), headers=auth(Role.ADMIN))

    assert response.status_code == 409, response.text
    assert "needs an upheld appeal" in response.json()["error"]["message"]


async def test_decisions_on_a_case_without_appeal_are_404_and_bad_bodies_422(
    http: httpx.AsyncClient,
) -> None:
    _, case_id = await _expired_case(http)

    none = await _decide(http, case_id, "uphold", "why not")
    blank = await http.post(
        f"/v1/cases/{case_id}/appeal", json={"statement": "  \n "}, headers=auth(Role.SUPPORT)
    )
    nul = await http.post(
        f"/v1/cases/{case_id}/appeal", json={"statement": "a\u0000b"}, headers=auth(Role.SUPPORT)
    )
    long = await http.post(
        f"/v1/cases/{case_id}/appeal", json={"statement": "x" * 4001}, headers=auth(Role.SUPPORT)
    )
    reasonless = await http.post(
        f"/v1/cases/{case_id}/appeal/reject", json={}, headers=auth(Role.OFFICER)
    )

    assert none.status_code == 404 and none.json()["error"]["code"] == "no_appeal"
    assert [r.status_code for r in (blank, nul, long, reasonless)] == [422] * 4
    unseen = await http.get(f"/v1/cases/{case_id}/appeal", headers=auth(Role.SUPPORT))
    assert unseen.status_code == 404


async def test_support_scoped_to_upbit_appeals_an_upbit_expiry(http: httpx.AsyncClient) -> None:
    _, case_id = await _expired_case(http)  # upbit

    own = await _appeal(http, case_id, upbit_only(Role.SUPPORT))

    assert own.status_code == 201, own.text


@pytest_asyncio.fixture
async def short_window(
    api_settings: Settings, tmp_path: Path, migrated: None
) -> AsyncIterator[httpx.AsyncClient]:
    """The same API with a policy whose appeal window is one second."""
    policy = tmp_path / "policy.toml"
    text = POLICY.read_text().replace('window = "PT10M"', 'window = "PT1S"')
    policy.write_text(text)
    application: FastAPI = create_app(api_settings.model_copy(update={"policy_file": policy}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
            yield client


async def test_appeal_after_the_window_is_409_with_the_reason(
    http: httpx.AsyncClient, short_window: httpx.AsyncClient
) -> None:
    _, case_id = await _expired_case(http)
    await asyncio.sleep(1.2)

    response = await _appeal(short_window, case_id)

    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "appeal_refused"
    message = response.json()["error"]["message"]
    assert f"the appeal window of case {case_id} closed at" in message
    assert "PT1S after the expiry" in message


async def test_an_expiry_whose_runs_retention_removed_is_appealed_from_its_audit_log(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    """Temporal knows nothing of the case any more; its audit rows, the record, remain."""
    key = await register_key(http)
    now = datetime.now(UTC)
    case = CaseState(
        case_id=f"{key.key_id}.run-long-gone",
        key_id=key.key_id,
        account_id=key.account_id,
        exchange=key.exchange,
        policy_version="api-tests-1",
        opened_at=now - timedelta(minutes=5),
        stage=CaseStage.EXPIRED,
        closed_at=now - timedelta(minutes=1),
        stages=[
            StageChange(stage=CaseStage.MONITORING, at=now - timedelta(minutes=5), reason="alert"),
            StageChange(stage=CaseStage.EXPIRED, at=now - timedelta(minutes=1), reason="kyc"),
        ],
    )
    facts = [audit_events.case_opened(case), audit_events.case_closed(case)]
    store: Store = app.state.store
    await store.write(lambda c: append_facts(c, facts, now))
    assert (
        await http.get(f"/v1/cases/{case.case_id}", headers=auth(Role.OFFICER))
    ).status_code == 404

    filed = await _appeal(http, case.case_id)

    assert filed.status_code == 201, filed.text
    rejected = await _decide(http, case.case_id, "reject", "lent to a bot operator")
    assert rejected.status_code == 200, rejected.text
    appeal = await http.get(f"/v1/cases/{case.case_id}/appeal", headers=auth(Role.OFFICER))
    expired = datetime.fromisoformat(appeal.json()["expired_at"])
    assert expired == case.closed_at
    unknown = await _appeal(http, f"{key.key_id}.run-never")
    assert unknown.status_code == 404, unknown.text
