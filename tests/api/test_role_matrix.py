"""Every role on every endpoint: each pair the design does not allow is a 403.

The matrix is the design's table (shared/DESIGN.md, HTTP API); every operation the OpenAPI
lists must be in it, so a new endpoint cannot go in without saying who may call it.
"""

import re

import httpx
import pytest
from fastapi import FastAPI

from api.auth import Role
from tests.api.conftest import auth

A, S, OF, K, G, U, SU = (
    Role.ADMIN,
    Role.SURVEILLANCE,
    Role.OFFICER,
    Role.KYC,
    Role.GATEWAY,
    Role.AUDITOR,
    Role.SUPPORT,
)
READERS = {OF, U}
ALLOWED: dict[tuple[str, str], set[Role]] = {
    ("POST", "/v1/accounts"): {A},
    ("POST", "/v1/accounts/{account_id}/erase"): {A},
    ("POST", "/v1/keys"): {A},
    ("GET", "/v1/keys/{key_id}"): READERS,
    ("PUT", "/v1/keys/{key_id}/allowed-ips"): {A},
    ("POST", "/v1/keys/{key_id}/authorize"): {G},
    ("GET", "/v1/keys/changes"): {G},
    ("POST", "/v1/access-reports"): {G},
    ("POST", "/v1/alerts"): {S},
    ("GET", "/v1/outcomes"): {S},
    ("GET", "/v1/cases"): READERS,
    ("GET", "/v1/cases/{case_id}"): READERS,
    ("GET", "/v1/cases/{case_id}/audit"): READERS,
    ("POST", "/v1/cases/{case_id}/kyc"): {K},
    ("POST", "/v1/cases/{case_id}/actions/confirm"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/dismiss"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/expire-now"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/approve"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/reject-pending"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/extend-kyc-deadline"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/assign"): {OF},
    ("POST", "/v1/cases/{case_id}/actions/note"): {OF},
    ("POST", "/v1/cases/{case_id}/appeal"): {OF, SU},
    ("GET", "/v1/cases/{case_id}/appeal"): {OF, SU, U},
    ("POST", "/v1/cases/{case_id}/appeal/uphold"): {OF},
    ("POST", "/v1/cases/{case_id}/appeal/reject"): {OF},
    ("GET", "/v1/rings"): READERS,
    ("GET", "/v1/rings/{ring_id}"): READERS,
    ("POST", "/v1/rings/{ring_id}/actions/confirm"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/dismiss"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/expire-now"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/approve"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/reject-pending"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/assign"): {OF},
    ("POST", "/v1/rings/{ring_id}/actions/note"): {OF},
    ("GET", "/v1/audit/verify"): {U},
    ("GET", "/v1/cases/{case_id}/report"): READERS,
    ("GET", "/v1/reports"): {U},
    ("GET", "/v1/reports/{name}"): {U},
}
SIGNED_BY_PROVIDERS = {("POST", "/v1/webhooks/sendgrid"), ("POST", "/v1/webhooks/twilio")}
REFUSED = [
    (method, path, role)
    for (method, path), allowed in ALLOWED.items()
    for role in Role
    if role not in allowed
]


def _concrete(path: str) -> str:
    return re.sub(r"\{[a-z_]+\}", lambda m: "key-x.run-y" if "case" in m[0] else "key-x", path)


def test_the_matrix_names_every_operation_of_the_api(app: FastAPI) -> None:
    operations = {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }

    assert operations == set(ALLOWED) | SIGNED_BY_PROVIDERS


@pytest.mark.parametrize(("method", "path", "role"), REFUSED)
async def test_role_not_allowed_on_endpoint_is_403(
    http: httpx.AsyncClient, method: str, path: str, role: Role
) -> None:
    body: dict[str, str] | None = None if method == "GET" else {}
    response = await http.request(method, _concrete(path), json=body, headers=auth(role))

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), sorted(ALLOWED))
async def test_an_allowed_role_gets_past_the_role_check(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    role = sorted(ALLOWED[(method, path)])[0]
    body: dict[str, str] | None = None if method == "GET" else {}
    response = await http.request(method, _concrete(path), json=body, headers=auth(role))

    assert response.status_code not in (401, 403), response.text
