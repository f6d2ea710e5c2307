"""Who may call what, how big a body may be, and the shape of every error."""

from collections.abc import AsyncIterator

import httpx
import pytest

from api.auth import Role, TokenTable, generate_tokens
from tests.api.conftest import auth


async def test_request_without_token_is_refused_with_401_and_bearer_challenge(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/cases")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


async def test_unknown_token_is_refused_with_401(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/cases", headers={"Authorization": "Bearer not-a-token"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_token_with_the_wrong_role_is_refused_with_403(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/cases", headers=auth(Role.GATEWAY))

    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "forbidden", "message": "this needs the auditor or officer role"}
    }


async def test_invalid_query_is_422_naming_each_bad_field(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/cases?stage=SLEEPING&color=red", headers=auth(Role.OFFICER))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    locations = [detail["location"] for detail in error["details"]]
    assert locations == ["query.stage", "query.color"]
    assert "query.stage" in error["message"]


async def test_body_over_64_kib_is_413_before_anyone_reads_it(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/alerts", content=b"{" + b" " * (65 * 1024) + b"}", headers=auth(Role.SURVEILLANCE)
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_chunked_body_over_64_kib_is_413_without_content_length(
    http: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b" " * 4096

    response = await http.post("/v1/alerts", content=chunks(), headers=auth(Role.SURVEILLANCE))

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_provider_event_batches_over_64_kib_reach_the_webhook_but_not_without_bound(
    http: httpx.AsyncClient,
) -> None:
    batch = b"[" + b" " * (512 * 1024) + b"]"
    huge = b"[" + b" " * (5 * 1024 * 1024) + b"]"

    unsigned = await http.post("/v1/webhooks/sendgrid", content=batch)
    refused = await http.post("/v1/webhooks/sendgrid", content=huge)

    # Past the size check, the batch meets the signature check (unsigned here).
    assert unsigned.status_code in (401, 503)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "payload_too_large"


async def test_unknown_path_and_wrong_method_answer_json_errors(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/nothing-here", headers=auth(Role.OFFICER))
    wrong_method = await http.delete("/v1/cases", headers=auth(Role.OFFICER))

    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["code"]) == (
        405,
        "method_not_allowed",
    )


async def test_openapi_is_served_at_docs(http: httpx.AsyncClient) -> None:
    docs = await http.get("/docs")
    schema = await http.get("/openapi.json")

    assert docs.status_code == 200
    assert "/v1/alerts" in schema.json()["paths"]


async def test_provider_webhooks_are_mounted_and_refuse_unsigned_calls(
    http: httpx.AsyncClient,
) -> None:
    schema = (await http.get("/openapi.json")).json()
    # The test settings configure no provider, so each webhook says it is not set up.
    twilio = await http.post("/v1/webhooks/twilio", data={"MessageSid": "SM1"})

    assert {"/v1/webhooks/sendgrid", "/v1/webhooks/twilio"} <= set(schema["paths"])
    assert (twilio.status_code, twilio.json()["error"]["code"]) == (503, "webhook_not_configured")


def test_generated_tokens_give_every_role_a_distinct_secret() -> None:
    table = TokenTable.parse(generate_tokens())

    assert sorted(p.role for p in table.principals) == sorted(Role)
    tokens = [entry.split(":", 2)[2] for entry in generate_tokens().split(",")]
    assert len(set(tokens)) == len(tokens)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("officer:kim", "expected role:name:token"),
        ("boss:kim:secret-token", "unknown role 'boss'"),
        ("officer:kim lee:secret-token", "name must match"),
        ("officer:kim:same-token,auditor:lee:same-token", "token used twice"),
        (" , ", "no entries"),
    ],
)
def test_malformed_token_configuration_is_refused_naming_the_problem(
    spec: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        TokenTable.parse(spec)


def test_token_may_contain_colons_and_maps_to_its_name() -> None:
    table = TokenTable.parse("officer:kim:a:b:c")

    found = table.principal_for("a:b:c")
    assert found is not None
    assert (found.role, found.name) == (Role.OFFICER, "kim")
    assert table.principal_for("a:b") is None
