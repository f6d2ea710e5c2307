"""Rings over the API: related keys validated at intake, rings listed newest first and paged,
one ring read with its reasons, the exchange scope respected, bad ids answered 404."""

import asyncio
from typing import Any

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth, second_officer, upbit_only
from tests.api.support import Key, alert_for, raise_alert, register_key


def _linking(key: Key, related: list[Key]) -> dict[str, Any]:
    alert = alert_for(key)
    alert["kind"] = "coordinated_activity"
    alert["evidence"] = {"related_keys": [k.key_id for k in related]}
    return alert


@pytest.mark.parametrize(
    "related",
    [[f"key-{n}" for n in range(21)], ["not a key id"], "key-1", {"values": [1, 2]}],
)
async def test_malformed_related_keys_are_refused_at_intake(
    http: httpx.AsyncClient, related: Any
) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"evidence": {"related_keys": related}}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 422, response.text
    assert "related_keys" in response.text


async def _ring_of(http: httpx.AsyncClient, exchange: str) -> tuple[list[Key], dict[str, Any]]:
    keys = [await register_key(http, exchange) for _ in range(3)]
    alert = _linking(keys[0], keys[1:])
    accepted = await raise_alert(http, alert)
    page = await http.get(
        "/v1/rings", params={"exchange": exchange, "min_size": 3}, headers=auth(Role.OFFICER)
    )
    assert page.status_code == 200, page.text
    ring_id = page.json()["rings"][0]["ring_id"]
    ring = await http.get(f"/v1/rings/{ring_id}", headers=auth(Role.AUDITOR))
    assert ring.status_code == 200, ring.text
    body: dict[str, Any] = ring.json()
    assert {link["source_id"] for link in body["links"]} == {alert["alert_id"]}
    assert {k["case_id"] for m in body["members"] for k in m["keys"]} >= {accepted["case_id"]}
    return keys, body


@pytest.mark.usefixtures("worker")
async def test_an_alert_naming_related_keys_forms_a_ring_listed_newest_first(
    http: httpx.AsyncClient,
) -> None:
    keys, older = await _ring_of(http, "korbit")
    _, newer = await _ring_of(http, "korbit")

    first = await http.get(
        "/v1/rings", params={"exchange": "korbit", "limit": 1}, headers=auth(Role.OFFICER)
    )
    cursor = first.json()["next_cursor"]
    second = await http.get(
        "/v1/rings",
        params={"exchange": "korbit", "limit": 1, "cursor": cursor},
        headers=auth(Role.OFFICER),
    )
    big = await http.get(
        "/v1/rings", params={"exchange": "korbit", "min_size": 4}, headers=auth(Role.OFFICER)
    )
    bad = await http.get("/v1/rings", params={"cursor": "AAAA"}, headers=auth(Role.OFFICER))

    assert [r["ring_id"] for r in first.json()["rings"]] == [newer["ring_id"]]
    assert second.json()["rings"][0]["ring_id"] == older["ring_id"]
    assert {m["account_id"] for m in older["members"]} == {k.account_id for k in keys}
    assert big.json()["rings"] == []
    assert bad.status_code == 400


@pytest.mark.usefixtures("worker")
async def test_a_ring_on_another_exchange_is_unknown_to_a_scoped_officer(
    http: httpx.AsyncClient,
) -> None:
    _, ring = await _ring_of(http, "gopax")
    path = f"/v1/rings/{ring['ring_id']}"

    read = await http.get(path, headers=upbit_only(Role.OFFICER))
    acted = await http.post(
        f"{path}/actions/note", json={"reason": "x", "text": "y"}, headers=upbit_only(Role.OFFICER)
    )
    listed = await http.get(
        "/v1/rings", params={"exchange": "gopax"}, headers=upbit_only(Role.OFFICER)
    )

    assert read.status_code == 404 and acted.status_code == 404
    assert listed.json()["rings"] == []


@pytest.mark.usefixtures("worker")
async def test_a_ring_note_reaches_every_member_case_and_says_so(http: httpx.AsyncClient) -> None:
    _, ring = await _ring_of(http, "coinone")
    path = f"/v1/rings/{ring['ring_id']}/actions/note"

    blank = await http.post(path, json={"reason": "x", "text": " "}, headers=auth(Role.OFFICER))
    noted = await http.post(
        path, json={"reason": "call log", "text": "one desk"}, headers=auth(Role.OFFICER)
    )

    assert blank.status_code == 422
    assert noted.status_code == 200, noted.text
    answer = noted.json()
    assert answer["applied"] == len(answer["members"]) >= 1
    for member in answer["members"]:
        case = await http.get(f"/v1/cases/{member['case_id']}", headers=auth(Role.OFFICER))
        assert case.json()["actions"][-1]["ring_id"] == ring["ring_id"]


async def _member_cases(http: httpx.AsyncClient, ring_id: str, members: int) -> list[str]:
    """The ring's member cases, once each member key has one (the ring raises them all)."""
    for _ in range(200):
        ring = (await http.get(f"/v1/rings/{ring_id}", headers=auth(Role.OFFICER))).json()
        cases = [k["case_id"] for m in ring["members"] for k in m["keys"] if k.get("case_id")]
        if len(cases) == members:
            return cases
        await asyncio.sleep(0.1)
    raise AssertionError(f"ring {ring_id} has cases {cases}, not {members}")


async def _stage(http: httpx.AsyncClient, case_id: str, wanted: str) -> str:
    for _ in range(200):
        stage: str = (await http.get(f"/v1/cases/{case_id}", headers=auth(Role.OFFICER))).json()[
            "stage"
        ]
        if stage == wanted:
            break
        await asyncio.sleep(0.1)
    return stage


@pytest.mark.usefixtures("worker")
async def test_a_ring_expire_now_waits_for_a_second_officer_then_expires_every_member(
    http: httpx.AsyncClient,
) -> None:
    """A ring of three raises its cases to high: each member's expire-now needs four eyes."""
    keys, ring = await _ring_of(http, "bithumb")
    for key in keys[1:]:  # each member's own alert opens its case, linked to the first key
        await raise_alert(http, _linking(key, keys[:1]))
    path = f"/v1/rings/{ring['ring_id']}/actions"
    cases = await _member_cases(http, ring["ring_id"], 3)

    asked = await http.post(
        f"{path}/expire-now", json={"reason": "one borrower"}, headers=auth(Role.OFFICER)
    )
    own = await http.post(f"{path}/approve", json={"reason": "mine"}, headers=auth(Role.OFFICER))
    approved = await http.post(
        f"{path}/approve", json={"reason": "agreed"}, headers=second_officer()
    )

    assert asked.status_code == 200, asked.text
    assert all(m["result"]["pending_approval"] for m in asked.json()["members"])
    assert own.json()["applied"] == 0 and {m["status"] for m in own.json()["members"]} == {409}
    assert approved.json()["applied"] == 3, approved.text
    assert [await _stage(http, case_id, "EXPIRED") for case_id in cases] == ["EXPIRED"] * 3


@pytest.mark.parametrize("ring_id", ["ring-00000000000000000000", "nonsense", "ring-ZZ"])
async def test_an_unknown_or_malformed_ring_id_is_404(
    http: httpx.AsyncClient, ring_id: str
) -> None:
    read = await http.get(f"/v1/rings/{ring_id}", headers=auth(Role.OFFICER))
    acted = await http.post(
        f"/v1/rings/{ring_id}/actions/dismiss", json={"reason": "x"}, headers=auth(Role.OFFICER)
    )

    assert read.status_code == 404 and acted.status_code == 404
    assert read.json()["error"]["code"] == "unknown_ring"


@pytest.mark.usefixtures("worker")
async def test_an_alert_joining_two_rings_merges_them_into_the_older(
    http: httpx.AsyncClient,
) -> None:
    a, b, c, d = [await register_key(http, "bithumb") for _ in range(4)]
    await raise_alert(http, _linking(a, [b]))
    await raise_alert(http, _linking(c, [d]))
    page = await http.get("/v1/rings", params={"exchange": "bithumb"}, headers=auth(Role.OFFICER))
    younger, older = [r["ring_id"] for r in page.json()["rings"][:2]]

    await raise_alert(http, _linking(b, [c]))

    kept = (await http.get(f"/v1/rings/{older}", headers=auth(Role.OFFICER))).json()
    ended = (await http.get(f"/v1/rings/{younger}", headers=auth(Role.OFFICER))).json()
    listed = await http.get("/v1/rings", params={"exchange": "bithumb"}, headers=auth(Role.OFFICER))
    refused = await http.post(
        f"/v1/rings/{younger}/actions/note",
        json={"reason": "x", "text": "y"},
        headers=auth(Role.OFFICER),
    )
    assert {m["account_id"] for m in kept["members"]} == {k.account_id for k in (a, b, c, d)}
    assert kept["merged_from"] == [younger]
    assert ended["status"] == "merged" and ended["merged_into"] == older
    assert younger not in {r["ring_id"] for r in listed.json()["rings"]}
    assert refused.status_code == 409 and older in refused.json()["error"]["message"]
