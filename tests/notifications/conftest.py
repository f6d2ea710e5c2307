"""Fake providers on 127.0.0.1, the real SDK adapters pointed at them, and migrated databases."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from store.engine import make_engine, make_sessionmaker
from tests.fakes.sendgrid_fake import FakeSendGrid
from tests.fakes.twilio_fake import FakeTwilio
from tests.notifications.support import FROM_NUMBER, TWILIO_CALLBACK
from tests.store.databases import database_url, sessions, sqlite_database

__all__ = ["database_url", "sessions"]


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
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite file only (for the tests that run Temporal workers)."""
    engine = make_engine(sqlite_database(tmp_path))
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
