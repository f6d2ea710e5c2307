"""Bad input is a 4xx with the JSON error shape at once, never a 5xx or a held request."""

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from api.auth import Role
from tests.api.conftest import auth
from tests.api.support import alert_for, open_case, register_key

SQL_INT_MAX = 2**63 - 1  # the largest INTEGER of SQLite and of PostgreSQL (BIGINT)


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    code: str = body["error"]["code"]
    return code


@pytest.mark.parametrize("phone", ["+9991234567", "+0821012345678", "+999"])
async def test_phone_with_a_country_code_that_does_not_exist_is_422(
    http: httpx.AsyncClient, phone: str
) -> None:
    account = {"account_id": "acct-bad-phone", "email": "a@example.com", "phone": phone}
    response = await http.post("/v1/accounts", json=account, headers=auth(Role.ADMIN))

    assert response.status_code == 422
    assert _error_code(response) in {"invalid_contact", "validation_error"}


@pytest.mark.parametrize("after_seq", [SQL_INT_MAX + 1, 10**30])
async def test_audit_page_beyond_the_largest_sql_integer_is_422(
    http: httpx.AsyncClient, after_seq: int
) -> None:
    response = await http.get(
        "/v1/cases/key-x.run-y/audit", params={"after_seq": after_seq}, headers=auth(Role.AUDITOR)
    )

    assert response.status_code == 422
    assert _error_code(response) == "validation_error"


async def test_audit_page_at_the_largest_sql_integer_is_an_empty_page(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(
        "/v1/cases/key-x.run-y/audit", params={"after_seq": SQL_INT_MAX}, headers=auth(Role.AUDITOR)
    )

    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    "cursor",
    [
        "null",
        "0000",
        "0" * 64,
        base64.urlsafe_b64encode(b'{"CloseTime":"x"}').decode(),
        "!!not-base64!!",
        "한국",
    ],
)
async def test_a_cursor_the_api_never_issued_is_400_without_asking_temporal(
    http: httpx.AsyncClient, cursor: str
) -> None:
    response = await http.get("/v1/cases", params={"cursor": cursor}, headers=auth(Role.OFFICER))

    assert response.status_code == 400
    assert _error_code(response) == "bad_cursor"


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2"])
@pytest.mark.parametrize("path", ["/v1/alerts", "/v1/accounts", "/v1/keys/k-1/authorize"])
async def test_no_token_is_401_before_the_body_is_read(
    http: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await http.post(path, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 401
    assert _error_code(response) == "unauthorized"


async def test_alert_observed_beyond_the_clock_skew_is_422(http: httpx.AsyncClient) -> None:
    key = await register_key(http)
    alert = alert_for(key) | {"observed_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}

    response = await http.post("/v1/alerts", json=alert, headers=auth(Role.SURVEILLANCE))

    assert response.status_code == 422
    assert _error_code(response) == "observed_in_future"


@pytest.mark.usefixtures("worker")
async def test_alert_observed_a_little_ahead_within_the_skew_is_taken(
    http: httpx.AsyncClient,
) -> None:
    key = await register_key(http)
    ahead = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()

    response = await http.post(
        "/v1/alerts", json=alert_for(key) | {"observed_at": ahead}, headers=auth(Role.SURVEILLANCE)
    )

    assert response.status_code == 202, response.text


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("dismiss", {"reason": "   "}),
        ("confirm", {"reason": "\t\n"}),
        ("note", {"reason": "context", "text": "  \n "}),
    ],
)
async def test_whitespace_only_reason_or_note_is_422_not_409(
    http: httpx.AsyncClient, action: str, body: dict[str, str]
) -> None:
    _, case_id = await open_case(http)

    response = await http.post(
        f"/v1/cases/{case_id}/actions/{action}", json=body, headers=auth(Role.OFFICER)
    )

    assert response.status_code == 422
    assert _error_code(response) == "validation_error"


@pytest.mark.parametrize("block", ["10.0.0.0/8", "100.64.0.0/10", "2001::/20"])
async def test_whitelist_block_wider_than_the_policy_allows_is_422(
    http: httpx.AsyncClient, block: str
) -> None:
    key = await register_key(http)

    response = await http.put(
        f"/v1/keys/{key.key_id}/allowed-ips",
        json={"allowed_ips": [block]},
        headers=auth(Role.ADMIN),
    )

    assert response.status_code == 422
    assert _error_code(response) == "invalid_allowed_ips"
    assert "covers too many addresses; the policy allows" in response.json()["error"]["message"]
