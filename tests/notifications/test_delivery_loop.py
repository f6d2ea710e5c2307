"""From send to delivery event: what keycase hands the providers comes back and is recognised."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NoticeActivities, NoticeRenderer, build_channels
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from config.settings import Settings
from domain.notices import Channel, DeliveryStatus
from tests.fakes import sendgrid_fake as sg
from tests.fakes.twilio_fake import FakeTwilio
from tests.notifications.hooks import Hooks
from tests.notifications.support import FROM_NUMBER, PUBLIC_BASE_URL, add_owner, warning


async def test_email_of_unknown_fate_confirmed_by_a_signed_event_is_not_sent_again(
    hooks: Hooks, sendgrid: sg.FakeSendGrid, email_port: SendGridEmail, sms_port: TwilioSms
) -> None:
    await add_owner(hooks.store)
    activities = NoticeActivities(hooks.store, email_port, sms_port, NoticeRenderer())
    sendgrid.script(sg.accepted_then_dropped())  # no activity feed: only the webhook can tell
    with pytest.raises(ApplicationError, match="email"):
        await ActivityEnvironment().run(activities.send_notice, warning())
    (mail,) = sendgrid.accepted
    processed = {
        "event": "processed",
        "sg_event_id": "evt-processed-1",
        "sg_message_id": f"{mail.message_id}.filterdrecv-5-1",
        "timestamp": int(datetime.now(UTC).timestamp()),
        **mail.custom_args,
    }
    assert (await hooks.sendgrid([processed])).json()["applied"] == 1
    result = await ActivityEnvironment().run(activities.send_notice, warning())
    assert len(sendgrid.accepted) == 1
    assert result.outcomes[0].status == DeliveryStatus.SENT
    assert result.outcomes[0].provider_message_id == mail.message_id


async def test_the_callback_url_given_to_twilio_is_accepted_by_the_webhook(
    hooks: Hooks, twilio: FakeTwilio
) -> None:
    await add_owner(hooks.store)
    settings = Settings(
        _env_file=None,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=SecretStr(twilio.auth_token),
        twilio_from_number=FROM_NUMBER,
        twilio_base_url=twilio.url,
    )
    channels = build_channels(settings)
    activities = NoticeActivities(hooks.store, channels.email, channels.sms, NoticeRenderer())
    result = await ActivityEnvironment().run(activities.send_notice, warning())
    (sms,) = twilio.accepted
    assert sms.status_callback is not None and sms.status_callback.startswith(PUBLIC_BASE_URL)
    callback = urlsplit(sms.status_callback)
    response = await hooks.twilio(
        callback.query.removeprefix("outbox_id="),
        sms.status_callback,
        MessageSid=sms.sid,
        MessageStatus="delivered",
    )
    assert response.json() == {"received": 1, "applied": 1}
    sms_outcome = next(o for o in result.outcomes if o.channel == Channel.SMS)
    assert (await hooks.row(sms_outcome.outbox_id)).status == DeliveryStatus.DELIVERED
