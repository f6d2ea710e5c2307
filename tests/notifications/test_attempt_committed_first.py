"""An attempt is committed before the provider is called: a crash mid-call is never resent blind."""

import asyncio
from datetime import datetime

import pytest
from temporalio.testing import ActivityEnvironment

from activities.notifications import NoticeActivities, NoticeRenderer
from activities.notifications.ports import Accepted, SmsMessage
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from domain.notices import DeliveryStatus
from store.outbox import NotificationOutbox, OutboxEntry
from store.port import Store
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.notifications.support import add_owner, warning


class WorkerLost(Exception):
    """The worker died while the provider was being called."""


class DiesWhileCalling:
    """Twilio, except that the worker dies once the e-mail is out, before any SMS is sent.

    On the way it reads the SMS's outbox row as another process would see it.
    """

    def __init__(self, real: TwilioSms, store: Store, sendgrid: sg.FakeSendGrid) -> None:
        self._real = real
        self._store = store
        self._sendgrid = sendgrid
        self.seen: OutboxEntry | None = None

    @property
    def provider(self) -> str:
        return self._real.provider

    @property
    def lookup_is_conclusive(self) -> bool:
        return self._real.lookup_is_conclusive

    async def send(self, message: SmsMessage) -> Accepted:
        self.seen = await self._store.read(lambda c: NotificationOutbox(c).get(message.outbox_id))
        while not self._sendgrid.accepted:  # noqa: ASYNC110 - the fake's thread fills the list
            await asyncio.sleep(0.01)
        raise WorkerLost

    async def find(self, message: SmsMessage, since: datetime) -> Accepted | None:
        return await self._real.find(message, since)


async def _row(store: Store, outbox_id: str) -> OutboxEntry:
    entry = await store.read(lambda c: NotificationOutbox(c).get(outbox_id))
    assert entry is not None
    return entry


async def test_a_worker_lost_mid_call_leaves_one_attempt_and_the_retry_sends_each_channel_once(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    sendgrid.activity_feed = True  # so the retry can find the e-mail that went out
    dying = DiesWhileCalling(sms_port, store, sendgrid)
    first = NoticeActivities(store, email_port, dying, NoticeRenderer())
    with pytest.raises(WorkerLost):
        await ActivityEnvironment().run(first.send_notice, warning())

    assert dying.seen is not None  # committed before the call, visible to everyone else
    assert (dying.seen.attempts, dying.seen.in_doubt) == (1, True)
    assert await _row(store, dying.seen.outbox_id) == dying.seen  # nothing more was written
    assert twilio.requests == [] and len(sendgrid.accepted) == 1

    retry = NoticeActivities(store, email_port, sms_port, NoticeRenderer())
    result = await ActivityEnvironment().run(retry.send_notice, warning())
    assert [o.status for o in result.outcomes] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(sendgrid.accepted) == 1  # found in the activity feed, not sent again
    assert len(twilio.accepted) == 1  # Twilio's "not found" is conclusive: sent once now
    assert (await _row(store, dying.seen.outbox_id)).attempts == 2
