"""Delivery webhooks: only correctly signed requests count; events move the outbox and the case."""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.limits import BodyLimitMiddleware
from api.provider_events import TWILIO_MAX_FIELDS
from api.webhooks import router
from config.settings import Settings
from domain.ids import case_workflow_id
from domain.notices import Channel, DeliveryStatus
from store.outbox import OutboxEntry, OutboxSends
from store.port import Store
from tests.fakes.sendgrid_fake import SentMail, bounce_event
from tests.fakes.webhook_signing import SendGridSigner, twilio_signature
from tests.notifications.delivery_listener import DeliveryListener
from tests.notifications.hooks import Hooks
from tests.notifications.support import PUBLIC_BASE_URL

TWILIO_TOKEN = "tw-webhook-token"
NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


async def _sent_row(
    store: Store,
    channel: Channel,
    message_id: str,
    case_id: str = "K-1.run-1",
) -> OutboxEntry:
    provider = "sendgrid" if channel == Channel.EMAIL else "twilio"

    def claim_and_send(connection: Connection) -> OutboxEntry:
        outbox = OutboxSends(connection)
        entry = outbox.claim(
            case_id=case_id,
            notice_id="warning",
            channel=channel,
            notice="warning",
            subject=None,
            body="text",
            recipient_hint=None,
            now=NOW,
        )
        return outbox.mark_sent(entry.outbox_id, provider, message_id, NOW)

    return await store.write(claim_and_send)


def _sendgrid_event(outbox_id: str, event: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": "owner@example.com",
        "event": event,
        "sg_event_id": event_id,
        "sg_message_id": "msg-1.filterdrecv-1",
        "timestamp": 1795586400,
        "outbox_id": outbox_id,
        **extra,
    }


async def test_signed_sendgrid_delivery_marks_the_email_delivered(hooks: Hooks) -> None:
    row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1")
    response = await hooks.sendgrid([_sendgrid_event(row.outbox_id, "delivered", "evt-1")])
    assert response.status_code == 200
    assert response.json() == {"received": 1, "applied": 1}
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.DELIVERED


async def test_forged_tampered_or_unsigned_sendgrid_events_get_401_and_change_nothing(
    hooks: Hooks,
) -> None:
    row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1")
    body = json.dumps([_sendgrid_event(row.outbox_id, "bounce", "evt-1")]).encode()
    forged = SendGridSigner().headers(body)
    tampered = hooks.signer.headers(body.replace(b"bounce", b"delivered"))
    for headers in (
        forged,
        tampered,
        {},
        {**forged, "X-Twilio-Email-Event-Webhook-Signature": "!!"},
    ):
        response = await hooks.http.post("/v1/webhooks/sendgrid", content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] in {"unsigned", "bad_signature"}
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.SENT


async def test_duplicate_and_late_sendgrid_events_are_harmless(hooks: Hooks) -> None:
    row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1")
    delivered = _sendgrid_event(row.outbox_id, "delivered", "evt-2")
    processed = _sendgrid_event(row.outbox_id, "processed", "evt-1")  # arrives last
    first = await hooks.sendgrid([delivered, delivered])
    again = await hooks.sendgrid([delivered, processed])
    assert first.json() == {"received": 2, "applied": 1}
    assert again.json() == {"received": 2, "applied": 0}
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.DELIVERED


async def test_a_bounce_is_recorded_as_failed_with_its_reason(hooks: Hooks) -> None:
    row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1")
    bounce = _sendgrid_event(row.outbox_id, "bounce", "evt-3", reason="550 5.1.1 user unknown")
    await hooks.sendgrid([bounce])
    stored = await hooks.row(row.outbox_id)
    assert (stored.status, stored.error) == (DeliveryStatus.FAILED, "550 5.1.1 user unknown")


async def test_signed_twilio_callbacks_keep_the_furthest_status(hooks: Hooks) -> None:
    row = await _sent_row(hooks.store, Channel.SMS, "SM1")
    delivered = await hooks.twilio(row.outbox_id, MessageSid="SM1", MessageStatus="delivered")
    late_sent = await hooks.twilio(row.outbox_id, MessageSid="SM1", MessageStatus="sent")
    repeated = await hooks.twilio(row.outbox_id, MessageSid="SM1", MessageStatus="delivered")
    assert [r.json()["applied"] for r in (delivered, late_sent, repeated)] == [1, 0, 0]
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "url",
    [
        "http://keycase.example.com/v1/webhooks/twilio?outbox_id={}",  # scheme differs
        "https://keycase.example.com/v1/webhooks/twilio",  # query left out
    ],
)
async def test_twilio_callbacks_signed_for_another_url_get_401(hooks: Hooks, url: str) -> None:
    row = await _sent_row(hooks.store, Channel.SMS, "SM1")
    response = await hooks.twilio(
        row.outbox_id, url.format(row.outbox_id), MessageSid="SM1", MessageStatus="failed"
    )
    assert response.status_code == 401
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.SENT


async def test_unsigned_or_forged_twilio_callbacks_get_401(hooks: Hooks) -> None:
    row = await _sent_row(hooks.store, Channel.SMS, "SM1")
    path = f"/v1/webhooks/twilio?outbox_id={row.outbox_id}"
    params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "30003"}
    forged = twilio_signature("not-the-token", PUBLIC_BASE_URL + path, params)
    for headers in ({}, forged):
        response = await hooks.http.post(path, data=params, headers=headers)
        assert response.status_code == 401
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.SENT


@asynccontextmanager
async def _listening_case(
    env: WorkflowEnvironment, key_id: str
) -> AsyncIterator[WorkflowHandle[Any, Any]]:
    """A stand-in case workflow for `key_id` that records the delivery events it receives.

    Terminated on the way out: a workflow left waiting would stall the time-skipping server.
    """
    queue = f"listener-{key_id}"
    async with Worker(env.client, task_queue=queue, workflows=[DeliveryListener]):
        handle: WorkflowHandle[Any, Any] = await env.client.start_workflow(
            DeliveryListener.run, id=case_workflow_id(key_id), task_queue=queue
        )
        try:
            yield handle
        finally:
            await handle.terminate("test done")


async def test_failed_sms_status_reaches_the_running_case_as_a_delivery_event(
    hooks: Hooks, time_skipping_env: WorkflowEnvironment
) -> None:
    key_id = f"K-{uuid.uuid4().hex[:12]}"
    async with _listening_case(time_skipping_env, key_id) as handle:
        case_id = f"{key_id}.{handle.first_execution_run_id}"
        row = await _sent_row(hooks.store, Channel.SMS, "SM7", case_id=case_id)
        await hooks.twilio(
            row.outbox_id, MessageSid="SM7", MessageStatus="undelivered", ErrorCode="30003"
        )
        await hooks.twilio(
            row.outbox_id, MessageSid="SM7", MessageStatus="undelivered", ErrorCode="30003"
        )
        received = await handle.query(DeliveryListener.received)
    assert len(received) == 1
    (event,) = received
    assert (event.outbox_id, event.notice_id, event.channel, event.status) == (
        row.outbox_id,
        "warning",
        Channel.SMS,
        DeliveryStatus.FAILED,
    )
    assert event.detail == "undelivered (error 30003)"


async def test_events_of_an_earlier_case_never_reach_the_keys_next_case(
    hooks: Hooks, time_skipping_env: WorkflowEnvironment
) -> None:
    key_id = f"K-{uuid.uuid4().hex[:12]}"
    async with _listening_case(time_skipping_env, key_id) as handle:
        earlier = f"{key_id}.{uuid.uuid4()}"
        row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1", case_id=earlier)
        response = await hooks.sendgrid([_sendgrid_event(row.outbox_id, "delivered", "evt-5")])
        received = await handle.query(DeliveryListener.received)
    assert response.json()["applied"] == 1 and received == []


async def test_events_for_a_case_whose_workflow_is_gone_still_update_the_outbox(
    hooks: Hooks,
) -> None:
    row = await _sent_row(hooks.store, Channel.EMAIL, "msg-1", case_id="K-gone.run-0")
    response = await hooks.sendgrid([_sendgrid_event(row.outbox_id, "delivered", "evt-9")])
    assert response.status_code == 200
    assert (await hooks.row(row.outbox_id)).status == DeliveryStatus.DELIVERED


async def test_webhooks_without_configured_secrets_refuse_everything(
    hooks: Hooks,
) -> None:
    hooks.app.state.settings = Settings(_env_file=None)
    response = await hooks.sendgrid([])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "webhook_not_configured"
    twilio = await hooks.twilio("ob_x", MessageSid="SM1", MessageStatus="sent")
    assert twilio.status_code == 503


@pytest.mark.parametrize(
    "event",
    [
        {"sg_event_id": "evt-no-kind", "timestamp": 1795586400},  # no `event` field
        {"event": "delivered", "timestamp": 10**20},  # beyond any datetime
        {"event": "delivered", "timestamp": "soon"},
        {"event": ["bounce"]},
    ],
)
async def test_signed_but_malformed_sendgrid_events_are_400(
    hooks: Hooks, event: dict[str, Any]
) -> None:
    response = await hooks.sendgrid([event])

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_signed_twilio_callback_with_too_many_fields_is_400(hooks: Hooks) -> None:
    params = {f"Field{n}": "x" for n in range(TWILIO_MAX_FIELDS + 1)}
    response = await hooks.twilio("ob_x", MessageSid="SM1", MessageStatus="sent", **params)

    assert response.status_code == 400


async def test_unsigned_flood_sized_twilio_callback_is_refused_before_it_is_parsed() -> None:
    """~400,000 form fields in 4 MiB: refused on its size, never parsed in the event loop."""
    app = FastAPI()
    app.include_router(router)
    app.add_middleware(BodyLimitMiddleware)
    transport = httpx.ASGITransport(app=app)
    body = b"&".join(b"f%d=1" % n for n in range(400_000))[: 4 * 1024 * 1024]
    async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as http:
        response = await http.post(
            "/v1/webhooks/twilio",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    assert response.status_code == 413


async def test_a_bounce_reaches_the_case_with_the_address_masked_and_the_outbox_keeps_it(
    hooks: Hooks, time_skipping_env: WorkflowEnvironment
) -> None:
    key_id = f"K-{uuid.uuid4().hex[:12]}"
    mail = SentMail("msg-b", "owner.kim+1@example.co.kr", "from@x.test", None, "s", "t", {})
    async with _listening_case(time_skipping_env, key_id) as handle:
        case_id = f"{key_id}.{handle.first_execution_run_id}"
        row = await _sent_row(hooks.store, Channel.EMAIL, "msg-b", case_id=case_id)
        bounce = bounce_event(mail) | {"outbox_id": row.outbox_id}
        await hooks.sendgrid([bounce])
        received = await handle.query(DeliveryListener.received)

    (event,) = received
    assert event.status is DeliveryStatus.FAILED
    assert event.detail is not None and "Recipient address rejected" in event.detail
    assert "owner.kim" not in event.detail and "example.co.kr" not in event.detail
    assert f"<contact of {row.outbox_id}>" in event.detail
    assert mail.to in ((await hooks.row(row.outbox_id)).error or "")  # raw, for activities only
