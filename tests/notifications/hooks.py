"""The webhook router in a bare FastAPI app, with helpers that sign requests like the providers."""

import json
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from store.outbox import NotificationOutbox, OutboxEntry
from store.port import Store
from tests.fakes.webhook_signing import SendGridSigner, twilio_signature
from tests.notifications.support import PUBLIC_BASE_URL

TWILIO_TOKEN = "tw-token"  # the fake Twilio account's auth token (tests.fakes.twilio_fake)


@dataclass
class Hooks:
    app: FastAPI
    http: httpx.AsyncClient
    signer: SendGridSigner
    store: Store

    async def sendgrid(self, events: list[dict[str, Any]], **headers: str) -> httpx.Response:
        body = json.dumps(events).encode()
        signed = self.signer.headers(body) | headers
        return await self.http.post("/v1/webhooks/sendgrid", content=body, headers=signed)

    async def twilio(self, outbox_id: str, url: str | None = None, **params: str) -> httpx.Response:
        path = f"/v1/webhooks/twilio?outbox_id={outbox_id}"
        headers = twilio_signature(TWILIO_TOKEN, url or PUBLIC_BASE_URL + path, params)
        return await self.http.post(path, data=params, headers=headers)

    async def row(self, outbox_id: str) -> OutboxEntry:
        entry = await self.store.read(lambda c: NotificationOutbox(c).get(outbox_id))
        assert entry is not None
        return entry
