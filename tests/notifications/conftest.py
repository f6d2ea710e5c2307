"""Fake providers on 127.0.0.1, the real SDK adapters pointed at them, and migrated databases."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from api.errors import install_error_handlers
from api.webhooks import router
from config.settings import Settings
from store.engine import open_store
from store.port import Store
from tests.fakes.sendgrid_fake import FakeSendGrid
from tests.fakes.twilio_fake import FakeTwilio
from tests.fakes.webhook_signing import SendGridSigner
from tests.notifications.hooks import TWILIO_TOKEN, Hooks
from tests.notifications.support import FROM_NUMBER, PUBLIC_BASE_URL, TWILIO_CALLBACK
from tests.store.databases import database_url, sqlite_database, store

__all__ = ["database_url", "store"]


@pytest_asyncio.fixture
async def hooks(
    sqlite_store: Store, time_skipping_env: WorkflowEnvironment
) -> AsyncIterator[Hooks]:
    """The webhook router with both secrets set, on a migrated SQLite file and Temporal."""
    signer = SendGridSigner()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    app.state.settings = Settings(
        _env_file=None,
        public_base_url=PUBLIC_BASE_URL,
        sendgrid_webhook_public_key=signer.public_key,
        twilio_auth_token=SecretStr(TWILIO_TOKEN),
    )
    app.state.store = sqlite_store
    app.state.temporal_client = time_skipping_env.client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://internal:8000") as http:
        yield Hooks(app, http, signer, sqlite_store)


@pytest.fixture
def sendgrid() -> Iterator[FakeSendGrid]:
    fake = FakeSendGrid()
    yield fake
    fake.close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def email_port(sendgrid: FakeSendGrid) -> SendGridEmail:
    return SendGridEmail(sendgrid.api_key, "no-reply@keycase.test", host=sendgrid.url, timeout=2)


@pytest.fixture
def sms_port(twilio: FakeTwilio) -> TwilioSms:
    return TwilioSms(
        twilio.account_sid,
        twilio.auth_token,
        FROM_NUMBER,
        status_callback_url=TWILIO_CALLBACK,
        base_url=twilio.url,
        timeout=2,
    )


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """The store on a migrated SQLite file only (for the tests that run Temporal workers)."""
    store = open_store(sqlite_database(tmp_path))
    try:
        yield store
    finally:
        await store.close()
