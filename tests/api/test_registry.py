"""Accounts, keys, whitelists and the gateway's question, over HTTP."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from api.auth import Role
from store.access import access_entries
from store.models import ApiKey
from tests.api.conftest import auth
from tests.api.support import register_key


async def test_account_is_registered_then_updated_in_place(http: httpx.AsyncClient) -> None:
    account = {"account_id": f"acct-{uuid.uuid4().hex[:8]}", "email": "a@Example.COM"}
    first = await http.post(
        "/v1/accounts", json=account | {"phone": "+821012345678"}, headers=auth(Role.ADMIN)
    )
    second = await http.post(
        "/v1/accounts",
        json=account | {"phone": "+821098765432", "locale": "en"},
        headers=auth(Role.ADMIN),
    )

    assert first.status_code == second.status_code == 200
    assert first.json()["email"] == "a@example.com"
    assert (second.json()["phone"], second.json()["locale"]) == ("+821098765432", "en")


async def test_account_with_an_unusable_phone_is_422_saying_why(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/accounts",
        json={"account_id": "acct-bad-phone", "email": "a@example.com", "phone": "010-1234-5678"},
        headers=auth(Role.ADMIN),
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_contact"
    assert "E.164" in response.json()["error"]["message"]


async def test_registered_key_is_shown_to_officers_and_auditors(http: httpx.AsyncClient) -> None:
    key = await register_key(http, allowed_ips=["203.0.113.7", "2001:db8::/48"])

    for role in (Role.OFFICER, Role.AUDITOR):
        response = await http.get(f"/v1/keys/{key.key_id}", headers=auth(role))
        assert response.status_code == 200
        shown = response.json()
        assert (shown["status"], shown["allowed_ips"]) == (
            "ACTIVE",
            ["203.0.113.7", "2001:db8::/48"],
        )
        assert "secret_hash" not in shown
    assert (await http.get(f"/v1/keys/{key.key_id}", headers=auth(Role.GATEWAY))).status_code == 403


async def test_unknown_key_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/keys/key-that-never-was", headers=auth(Role.OFFICER))

    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_key")


async def test_registering_a_key_twice_the_same_way_is_fine_differently_409(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    body = {
        "key_id": key.key_id,
        "account_id": key.account_id,
        "exchange": key.exchange,
        "permissions": ["read", "trade", "withdraw"],
        "allowed_ips": ["203.0.113.0/24"],
    }

    same = await http.post("/v1/keys", json=body, headers=auth(Role.ADMIN))
    other = await http.post(
        "/v1/keys", json=body | {"exchange": "bithumb"}, headers=auth(Role.ADMIN)
    )

    assert same.status_code == 201
    assert (other.status_code, other.json()["error"]["code"]) == (409, "key_conflict")


async def test_key_for_an_unknown_account_is_422(http: httpx.AsyncClient) -> None:
    body = {
        "key_id": "key-orphan",
        "account_id": "acct-nobody",
        "exchange": "upbit",
        "permissions": ["read"],
    }

    response = await http.post("/v1/keys", json=body, headers=auth(Role.ADMIN))

    assert (response.status_code, response.json()["error"]["code"]) == (422, "unknown_account")


async def test_whitelist_is_replaced_and_bad_entries_are_named(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    url = f"/v1/keys/{key.key_id}/allowed-ips"

    replaced = await http.put(url, json={"allowed_ips": ["198.51.100.4"]}, headers=auth(Role.ADMIN))
    bad = await http.put(
        url, json={"allowed_ips": ["198.51.100.4", "fe80::1%eth0"]}, headers=auth(Role.ADMIN)
    )
    too_many = await http.put(
        url, json={"allowed_ips": [f"198.51.100.{n}" for n in range(11)]}, headers=auth(Role.ADMIN)
    )

    assert replaced.json()["allowed_ips"] == ["198.51.100.4"]
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_allowed_ips")
    assert "entry 2" in bad.json()["error"]["message"]
    assert too_many.status_code == 422


async def test_gateway_allows_whitelisted_addresses_only(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    url = f"/v1/keys/{key.key_id}/authorize"

    inside = await http.post(
        url, json={"ip": "203.0.113.9", "permission": "trade"}, headers=auth(Role.GATEWAY)
    )
    mapped = await http.post(
        url, json={"ip": "::ffff:203.0.113.9", "permission": "read"}, headers=auth(Role.GATEWAY)
    )
    outside = await http.post(
        url, json={"ip": "198.51.100.7", "permission": "trade"}, headers=auth(Role.GATEWAY)
    )

    assert inside.json() == {"allowed": True, "reason": "allowed"}
    assert mapped.json() == {"allowed": True, "reason": "allowed"}
    assert outside.json() == {"allowed": False, "reason": "ip_not_whitelisted"}


async def test_gateway_asking_about_an_unknown_key_is_denied(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/keys/key-unknown/authorize",
        json={"ip": "203.0.113.9", "permission": "read"},
        headers=auth(Role.GATEWAY),
    )

    assert response.json() == {"allowed": False, "reason": "unknown_key"}


async def test_gateway_question_with_an_unknown_permission_is_422(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)

    response = await http.post(
        f"/v1/keys/{key.key_id}/authorize",
        json={"ip": "203.0.113.9", "permission": "lend"},
        headers=auth(Role.GATEWAY),
    )

    assert response.status_code == 422


async def test_every_gateway_answer_reaches_the_access_log(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    key = await register_key(http)
    url = f"/v1/keys/{key.key_id}/authorize"
    since = datetime.now(UTC) - timedelta(seconds=1)

    for ip in ("203.0.113.9", "198.51.100.7", "203.0.113.10"):
        answer = await http.post(
            url, json={"ip": ip, "permission": "trade"}, headers=auth(Role.GATEWAY)
        )
        assert answer.status_code == 200
    await app.state.store.flush()
    logged = await app.state.store.read(lambda c: access_entries(c, key.key_id, since))

    assert [(e.ip, e.reason) for e in logged] == [
        ("203.0.113.9", "allowed"),
        ("198.51.100.7", "ip_not_whitelisted"),
        ("203.0.113.10", "allowed"),
    ]


async def test_gateway_denies_a_key_the_moment_it_is_expired(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    key = await register_key(http)
    url = f"/v1/keys/{key.key_id}/authorize"
    question = {"ip": "203.0.113.9", "permission": "read"}
    before = await http.post(url, json=question, headers=auth(Role.GATEWAY))

    expire = update(ApiKey).where(ApiKey.key_id == key.key_id).values(status="EXPIRED")
    await app.state.store.write(lambda c: c.execute(expire))
    after = await http.post(url, json=question, headers=auth(Role.GATEWAY))

    assert before.json() == {"allowed": True, "reason": "allowed"}
    assert after.json() == {"allowed": False, "reason": "expired"}
