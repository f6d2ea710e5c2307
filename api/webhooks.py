"""Provider delivery events: SendGrid's signed event webhook and Twilio's status callbacks.

Each request is verified with the provider SDK's own validator over the exact bytes (SendGrid)
or the exact public URL and parameters (Twilio) before anything is read from it; both bodies
are bounded first (`api.limits`, `api.provider_events`), and SendGrid's large batches are
verified and parsed in a thread, so a hostile request never stalls the event loop. Events are
deduplicated on their ids in the database, advance the outbox only forward, and reach the case
as `delivery_event` signals with every contact in the provider's text masked (the raw text
stays in the outbox). The signals go out, from a read, before the events are recorded: if
Temporal is unavailable the request fails with 503, nothing is recorded, and the provider sends
it again (a case ignores a repeated report: a channel's status only moves forward).
"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sendgrid.helpers.eventwebhook import EventWebhook
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from api.errors import ApiError
from api.provider_events import (
    BadEvents,
    ProviderEvent,
    read_sendgrid_batch,
    twilio_event,
    twilio_params,
)
from api.visibility import held_case
from config.settings import Settings
from domain.ids import case_workflow_id, key_id_of_case
from domain.masking import mask_optional
from domain.messages import DeliveryEvent, SignalName
from store.outbox import NotificationOutbox, OutboxEntry, moves
from store.port import Store

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
TWILIO_SIGNATURE = "X-Twilio-Signature"
# Below this a body is verified and parsed in the event loop: a thread hop costs more.
_INLINE_BYTES = 64 * 1024


@router.post("/sendgrid", summary="SendGrid event webhook (ECDSA-signed)")
async def sendgrid_events(request: Request) -> dict[str, int]:
    """Apply a signed batch of SendGrid events."""
    settings: Settings = request.app.state.settings
    if not settings.sendgrid_webhook_public_key:
        raise ApiError(503, "webhook_not_configured", "no SendGrid webhook public key is set")
    signature = request.headers.get(SENDGRID_SIGNATURE)
    timestamp = request.headers.get(SENDGRID_TIMESTAMP)
    if not signature or not timestamp:
        raise ApiError(401, "unsigned", "the SendGrid signature headers are missing")
    raw = await request.body()
    key = settings.sendgrid_webhook_public_key
    if len(raw) > _INLINE_BYTES:
        signed, events = await asyncio.to_thread(_verify_sendgrid, key, raw, signature, timestamp)
    else:
        signed, events = _verify_sendgrid(key, raw, signature, timestamp)
    if not signed:
        raise ApiError(401, "bad_signature", "the SendGrid signature does not match")
    if isinstance(events, BadEvents):
        raise ApiError(400, "bad_request", str(events))
    return await _apply(request, "sendgrid", events)


@router.post("/twilio", summary="Twilio message status callback (HMAC-signed)")
async def twilio_status(request: Request) -> dict[str, int]:
    """Apply one signed Twilio status callback."""
    settings: Settings = request.app.state.settings
    if settings.twilio_auth_token is None:
        raise ApiError(503, "webhook_not_configured", "no Twilio auth token is set")
    signature = request.headers.get(TWILIO_SIGNATURE)
    if not signature:
        raise ApiError(401, "unsigned", "the X-Twilio-Signature header is missing")
    try:
        params = twilio_params(await request.body())
    except BadEvents as error:
        raise ApiError(400, "bad_request", str(error)) from None
    # Twilio signs the URL it called: the public one, not the one this process sees.
    query = f"?{request.url.query}" if request.url.query else ""
    url = settings.public_base_url.rstrip("/") + request.url.path + query
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not validator.validate(url, params, signature):
        raise ApiError(401, "bad_signature", "the Twilio signature does not match")
    try:
        event = twilio_event(params, request.query_params.get("outbox_id"))
    except BadEvents as error:
        raise ApiError(400, "bad_request", str(error)) from None
    return await _apply(request, "twilio", [event])


def _verify_sendgrid(
    public_key: str, raw: bytes, signature: str, timestamp: str
) -> tuple[bool, list[ProviderEvent] | BadEvents]:
    """Whether the batch is signed, and then its events (or why they cannot be read)."""
    try:
        signed = bool(EventWebhook(public_key).verify_signature(raw.decode(), signature, timestamp))
    except (ValueError, TypeError, UnicodeDecodeError):  # malformed signature or key
        signed = False
    if not signed:
        return False, []
    try:
        return True, read_sendgrid_batch(raw)
    except BadEvents as error:
        return True, error


async def _apply(request: Request, provider: str, events: list[ProviderEvent]) -> dict[str, int]:
    client: Client = request.app.state.temporal_client
    store: Store = request.app.state.store
    now = datetime.now(UTC)
    # Signals first, from a read: a store write is never held open across Temporal calls.
    for entry, event in await store.read(
        lambda c: _moving(NotificationOutbox(c), provider, events)
    ):
        await _signal_case(client, entry, event)
    applied = await store.write(lambda c: _record(NotificationOutbox(c), provider, events, now))
    return {"received": len(events), "applied": applied}


def _outbox_id_of(outbox: NotificationOutbox, provider: str, event: ProviderEvent) -> str | None:
    if event.outbox_id is None and event.message_id:
        known = outbox.by_provider_message_id(provider, event.message_id)
        return known.outbox_id if known else None
    return event.outbox_id


def _moving(
    outbox: NotificationOutbox, provider: str, events: list[ProviderEvent]
) -> list[tuple[OutboxEntry, ProviderEvent]]:
    """The rows these events will advance, as they will stand; nothing is written."""
    seen: set[str] = set()
    rows: dict[str, OutboxEntry] = {}
    moving: list[tuple[OutboxEntry, ProviderEvent]] = []
    for event in events:
        if event.event_id in seen or outbox.seen(provider, event.event_id):
            continue  # a duplicate delivery of an event already applied
        seen.add(event.event_id)
        outbox_id = _outbox_id_of(outbox, provider, event)
        if outbox_id is None or event.status is None:
            continue
        entry = rows.get(outbox_id) or outbox.get(outbox_id)
        if entry is not None and moves(event.status, entry.status):
            rows[outbox_id] = entry = replace(entry, status=event.status)
            moving.append((entry, event))
    return moving


def _record(
    outbox: NotificationOutbox, provider: str, events: list[ProviderEvent], now: datetime
) -> int:
    """Remember the events and advance their rows; how many rows moved."""
    moved = 0
    for event in events:
        outbox_id = _outbox_id_of(outbox, provider, event)
        if not outbox.first_sighting(provider, event.event_id, outbox_id, now):
            continue  # a duplicate delivery of an event already applied
        if outbox_id is None or event.status is None:
            continue
        entry = outbox.apply_event(
            outbox_id, event.status, provider, event.message_id, event.detail, now
        )
        moved += entry is not None
    return moved


async def _signal_case(client: Client, entry: OutboxEntry, event: ProviderEvent) -> None:
    """Tell the case; a case that has closed (or a newer case for the key) is left alone."""
    handle = client.get_workflow_handle(case_workflow_id(key_id_of_case(entry.case_id)))
    signal = DeliveryEvent(
        notice_id=entry.notice_id,
        channel=entry.channel,
        status=entry.status,
        outbox_id=entry.outbox_id,
        # The case's history and audit chain never see a contact; the outbox keeps the raw text.
        detail=mask_optional(event.detail, entry.outbox_id, limit=200),
        occurred_at=event.occurred_at,
    )
    try:
        run = await handle.describe()
        if run.status != WorkflowExecutionStatus.RUNNING or held_case(run) != entry.case_id:
            return  # the case has ended, or the key's workflow runs a later case
        await client.get_workflow_handle(run.id, run_id=run.run_id).signal(
            SignalName.DELIVERY_EVENT, signal
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
