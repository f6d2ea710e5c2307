"""The gateway may also pass the client's user agent and JA4 fingerprint; both are checked."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from api.auth import Role
from store.access import access_entries
from tests.api.conftest import auth
from tests.api.support import register_key

JA4 = "t13d1516h2_8daaf6152771_b186095e22b6"


async def test_user_agent_and_fingerprint_are_logged_with_the_decision(
    http: httpx.AsyncClient, app: FastAPI
) -> None:
    key = await register_key(http)
    since = datetime.now(UTC) - timedelta(seconds=1)
    body = {"ip": "203.0.113.9", "permission": "trade", "user_agent": "ccxt/4.2 (python)"}

    answer = await http.post(
        f"/v1/keys/{key.key_id}/authorize",
        json=body | {"tls_fingerprint": JA4},
        headers=auth(Role.GATEWAY),
    )
    await app.state.store.flush()
    (logged,) = await app.state.store.read(lambda c: access_entries(c, key.key_id, since))

    assert answer.json() == {"allowed": True, "reason": "allowed"}
    assert (logged.user_agent, logged.tls_fingerprint) == ("ccxt/4.2 (python)", JA4)
    assert logged.network == "203.0.113.0/24"


@pytest.mark.parametrize(
    "extra",
    [
        {"tls_fingerprint": "t13d1516h2_8daaf6152771"},  # a hash missing
        {"tls_fingerprint": JA4.upper()},
        {"tls_fingerprint": JA4 + "0"},
        {"user_agent": "x" * 257},
        {"user_agent": "bot\r\nX-Injected: 1"},
        {"user_agent": ""},
    ],
)
async def test_malformed_client_details_are_422_and_log_nothing(
    http: httpx.AsyncClient, app: FastAPI, extra: dict[str, str]
) -> None:
    key = await register_key(http)
    since = datetime.now(UTC) - timedelta(seconds=1)

    answer = await http.post(
        f"/v1/keys/{key.key_id}/authorize",
        json={"ip": "203.0.113.9", "permission": "trade"} | extra,
        headers=auth(Role.GATEWAY),
    )
    await app.state.store.flush()
    logged = await app.state.store.read(lambda c: access_entries(c, key.key_id, since))

    assert answer.status_code == 422
    assert "code" in answer.json()["error"]
    assert logged == []
