"""The codec server: ciphertext in history, decoded only for officers and auditors."""

import base64
import json
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.testing import WorkflowEnvironment

from api.auth import Principal, Role
from api.codec_session import COOKIE, LIFETIME_SECONDS, CodecSessions
from domain.ids import case_workflow_id
from local_stack.devserver import dev_server_command
from payloads.codec import ENCODING
from tests.api.conftest import auth
from tests.api.support import open_case

pytestmark = pytest.mark.usefixtures("worker")
UI = "http://127.0.0.1:8233"  # the settings' default Temporal UI origin


async def _history_payloads(dev_env: WorkflowEnvironment, key_id: str) -> dict[str, object]:
    """The first event's input as the Temporal UI receives it: protobuf JSON."""
    history = await dev_env.client.get_workflow_handle(case_workflow_id(key_id)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    body: dict[str, object] = json.loads(json_format.MessageToJson(started.input))
    return body


async def test_history_holds_ciphertext_and_an_officer_or_auditor_reads_it_decoded(
    http: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    key, _case_id = await open_case(http)
    body = await _history_payloads(dev_env, key.key_id)
    raw = json.dumps(body)
    assert key.key_id not in raw and "example.com" not in raw

    for role in (Role.OFFICER, Role.AUDITOR):
        response = await http.post("/codec/decode", json=body, headers=auth(role))
        assert response.status_code == 200, response.text
        decoded = json_format.Parse(response.text, Payloads())
        assert decoded.payloads[0].metadata["encoding"] != ENCODING
        assert key.key_id.encode() in decoded.payloads[0].data


@pytest.mark.parametrize("role", [Role.GATEWAY, Role.SURVEILLANCE, Role.KYC, Role.ADMIN])
async def test_other_roles_and_strangers_decode_nothing(
    http: httpx.AsyncClient, dev_env: WorkflowEnvironment, role: Role
) -> None:
    key, _ = await open_case(http)
    body = await _history_payloads(dev_env, key.key_id)

    stranger = await http.post("/codec/decode", json=body)
    wrong = await http.post("/codec/decode", json=body, headers=auth(role))
    forged = await http.post(
        "/codec/decode", json=body, headers={"Cookie": f"{COOKIE}=b2ZmaWNlcnxraW18OQ.x"}
    )

    assert stranger.status_code == 401 and forged.status_code == 401
    assert wrong.status_code == 403
    assert key.key_id not in stranger.text + wrong.text + forged.text


async def test_a_session_cookie_decodes_for_the_ui_origin_with_credentials(
    http: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    key, _ = await open_case(http)
    body = await _history_payloads(dev_env, key.key_id)
    opened = await http.post("/codec/session", headers={**auth(Role.OFFICER), "Origin": UI})
    cookie = opened.cookies[COOKIE]
    assert "httponly" in opened.headers["set-cookie"].lower()

    preflight = await http.options(
        "/codec/decode",
        headers={"Origin": UI, "Access-Control-Request-Method": "POST"},
    )
    decoded = await http.post(
        "/codec/decode", json=body, headers={"Origin": UI, "Cookie": f"{COOKIE}={cookie}"}
    )
    elsewhere = await http.options(
        "/codec/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == UI
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert decoded.status_code == 200 and key.key_id in str(
        json_format.Parse(decoded.text, Payloads())
    )
    assert decoded.headers["access-control-allow-origin"] == UI
    assert elsewhere.status_code == 403
    assert "access-control-allow-origin" not in elsewhere.headers


async def test_only_an_officer_may_encode_and_garbage_is_a_400(http: httpx.AsyncClient) -> None:
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "e30="}]}

    encoded = await http.post("/codec/encode", json=plain, headers=auth(Role.OFFICER))
    auditor = await http.post("/codec/encode", json=plain, headers=auth(Role.AUDITOR))
    garbage = await http.post("/codec/decode", content=b"{nope", headers=auth(Role.OFFICER))
    back = await http.post("/codec/decode", json=encoded.json(), headers=auth(Role.OFFICER))

    assert encoded.status_code == 200
    assert "anNvbi9wbGFpbg==" not in encoded.text
    assert auditor.status_code == 403
    assert garbage.status_code == 400
    assert back.json() == plain


def test_a_session_cookie_expires_and_cannot_be_forged_or_moved_to_another_secret() -> None:
    sessions = CodecSessions(b"k" * 32)
    kim = Principal(Role.OFFICER, "kim")
    cookie = sessions.issue(kim, now=1000.0)
    signature = cookie.partition(".")[2]
    forged_body = base64.urlsafe_b64encode(b"officer|eve|99999999999").decode().rstrip("=")

    assert sessions.principal_for(cookie, now=1000.0 + LIFETIME_SECONDS - 1) == kim
    assert sessions.principal_for(cookie, now=1000.0 + LIFETIME_SECONDS + 1) is None
    assert sessions.principal_for(f"{forged_body}.{signature}", now=1000.0) is None
    assert CodecSessions(b"x" * 32).principal_for(cookie, now=1000.0) is None
    assert sessions.principal_for("garbage", now=1000.0) is None


def test_the_local_stack_starts_the_ui_with_the_codec_endpoint() -> None:
    command = dev_server_command(
        "127.0.0.1:7233",
        8233,
        Path("t.db"),
        http_port=7243,
        metrics_port=7244,
        codec_endpoint="http://127.0.0.1:8000/codec",
    )

    at = command.index("--ui-codec-endpoint")
    assert command[at + 1] == "http://127.0.0.1:8000/codec"
