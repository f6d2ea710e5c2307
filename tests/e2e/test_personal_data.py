"""No contact leaves the outbox: a run where Twilio refuses a number and SendGrid bounces an
address leaves neither, in any form, in Temporal or in the audit log.

The fakes word both failures as the providers do (Twilio 21211 quotes the number, a bounce
quotes the address); every workflow id, search attribute, memo, summary and details,
history payload and audit row the run leaves is then scanned for each account's e-mail
address and phone number, in E.164, digits only and the local 010 forms.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from tests.alert_bodies import alert_body
from tests.e2e.history_scan import payloads_in
from tests.e2e.stack import RunningStack, running_stack
from tests.fakes import twilio_fake as tw
from tests.fakes.sendgrid_fake import bounce_event
from tests.fakes.webhook_signing import SendGridSigner

pytestmark = pytest.mark.e2e

SIGNER = SendGridSigner()
REFUSED = {"account_id": "acct-pii-1", "email": "kim.minji@example.co.kr", "phone": "+821055501234"}
FINE = {"account_id": "acct-pii-2", "email": "lee.owner@example.com", "phone": "+821077705678"}
WAIT_SECONDS = 60.0


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    data_dir: Path = tmp_path_factory.mktemp("keycase-pii")
    extra = {"KEYCASE_SENDGRID_WEBHOOK_PUBLIC_KEY": SIGNER.public_key}
    async with running_stack(data_dir, workers=1, extra_env=extra) as running:
        yield running


def contact_forms(account: dict[str, str]) -> set[str]:
    """Every form a contact could be written in."""
    number = phonenumbers.parse(account["phone"], None)
    local = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits_only = "".join(c for c in local if c.isdigit())
    email = account["email"]
    return {account["phone"], account["phone"][1:], local, digits_only, email, email.lower()}


async def _open_case(stack: RunningStack, account: dict[str, str]) -> tuple[str, str]:
    key_id = f"key-{account['account_id']}"
    async with stack.http("admin") as admin:
        assert (await admin.post("/v1/accounts", json=account | {"locale": "ko"})).is_success
        key = {
            "key_id": key_id,
            "account_id": account["account_id"],
            "exchange": "upbit",
            "permissions": ["read", "trade"],
            "allowed_ips": ["203.0.113.0/24"],
        }
        assert (await admin.post("/v1/keys", json=key)).is_success
    alert = alert_body(_Key(key_id, account["account_id"]), "high")
    async with stack.http("surveillance") as surveillance:
        response = await surveillance.post("/v1/alerts", json=alert)
    assert response.status_code == 202, response.text
    return key_id, str(response.json()["case_id"])


class _Key:
    def __init__(self, key_id: str, account_id: str) -> None:
        self.key_id, self.account_id, self.exchange = key_id, account_id, "upbit"


async def _until_case(stack: RunningStack, case_id: str, ready: Any) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    async with stack.http("officer") as officer:
        while True:
            case: dict[str, Any] = (await officer.get(f"/v1/cases/{case_id}")).json()
            if ready(case):
                return case
            assert asyncio.get_running_loop().time() < deadline, case
            await asyncio.sleep(0.3)


def _channel(case: dict[str, Any], notice_id: str, channel: str) -> dict[str, Any] | None:
    for notice in case.get("notices", []):
        if notice["notice_id"] == notice_id:
            for entry in notice["channels"]:
                if entry["channel"] == channel:
                    found: dict[str, Any] = entry
                    return found
    return None


def _settled(case: dict[str, Any], notice_id: str) -> bool:
    """The notice went out and every channel of it has its answer (a retry may follow)."""
    for notice in case.get("notices", []):
        if notice["notice_id"] == notice_id:
            return bool(notice["channels"]) and all(
                entry["status"] != "pending" for entry in notice["channels"]
            )
    return False


def _status(case: dict[str, Any], notice_id: str, channel: str) -> str | None:
    entry = _channel(case, notice_id, channel)
    return entry["status"] if entry else None


async def _bounce(stack: RunningStack, email: str) -> None:
    mail = next(m for m in stack.sendgrid.accepted if m.to == email)
    body = json.dumps([bounce_event(mail)]).encode()
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as provider:
        response = await provider.post(
            "/v1/webhooks/sendgrid", content=body, headers=SIGNER.headers(body)
        )
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1


async def _temporal_leftovers(client: Client) -> list[bytes]:
    """Ids, descriptions (search attributes, memo, summary), details and whole histories,
    every payload both as stored (ciphertext) and decoded with the stack's key."""
    found: list[bytes] = []
    codec = client.data_converter.payload_codec
    assert codec is not None
    async for execution in client.list_workflows(""):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        description = await handle.describe()
        found.append(execution.id.encode())
        found.append(description.raw_description.SerializeToString())
        history = await handle.fetch_history()
        found.extend(event.SerializeToString() for event in history.events)
        for event in history.events:
            for _path, payload in payloads_in(event):
                found.extend(p.SerializeToString() for p in await codec.decode([payload]))
        metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
        found.append(metadata.SerializeToString())
    return found


def _audit_rows(data_dir: Path) -> list[bytes]:
    engine = create_engine(f"sqlite:///{data_dir / 'keycase.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT * FROM audit_log")).all()
    finally:
        engine.dispose()
    return [repr(tuple(row)).encode() for row in rows]


async def test_refused_number_and_bounced_address_leave_no_contact_in_temporal_or_audit(
    stack: RunningStack,
) -> None:
    # The warning, its SMS fallback once the e-mail bounced, then the expiry notice.
    stack.twilio.script(tw.error(21211), tw.error(21211), tw.error(21211))
    refused_key, refused_case = await _open_case(stack, REFUSED)
    case = await _until_case(
        stack, refused_case, lambda c: _status(c, "warning", "sms") == "failed"
    )
    assert "is not a valid phone number" in (_channel(case, "warning", "sms") or {})["error"]
    await _bounce(stack, REFUSED["email"])
    await _until_case(stack, refused_case, lambda c: _status(c, "warning", "email") == "failed")
    async with stack.http("officer") as officer:
        expired = await officer.post(
            f"/v1/cases/{refused_case}/actions/expire-now", json={"reason": "owner unreachable"}
        )
    assert expired.status_code == 200, expired.text
    # Retries through the other channel may take the second refusal before the expiry does.
    await _until_case(stack, refused_case, lambda c: _settled(c, "expiry"))

    _, fine_case = await _open_case(stack, FINE)
    await _until_case(stack, fine_case, lambda c: _settled(c, "warning"))

    api_texts: list[bytes] = []
    for role in ("officer", "auditor"):
        async with stack.http(role) as reader:
            for case_id in (refused_case, fine_case):
                api_texts.append((await reader.get(f"/v1/cases/{case_id}")).content)
                api_texts.append((await reader.get(f"/v1/cases/{case_id}/audit")).content)
    leftovers = {
        "temporal": await _temporal_leftovers(stack.temporal),
        "audit rows": _audit_rows(stack.logs.parent),
        "API": api_texts,
    }
    assert all(leftovers.values())
    leaks = sorted(
        f"{where}: {form!r}"
        for where, blobs in leftovers.items()
        for form in contact_forms(REFUSED) | contact_forms(FINE)
        if any(form.encode() in blob for blob in blobs)
    )
    assert leaks == []
    assert any(refused_key.encode() in blob for blob in leftovers["temporal"])  # scan is real
    assert any(b"Recipient address rejected" in blob for blob in leftovers["temporal"])
