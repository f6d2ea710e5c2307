"""The real SendGrid and Twilio SDKs against local fakes: what is sent, how failures read."""

from datetime import UTC, datetime, timedelta

import pytest

from activities.notifications.ports import (
    EmailMessage,
    PermanentSendError,
    SmsMessage,
    TransientSendError,
)
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.notifications.support import FROM_NUMBER, OWNER_EMAIL, OWNER_PHONE, TWILIO_CALLBACK

MAIL = EmailMessage("ob_mail", OWNER_EMAIL, "[업비트] API 키 이용 경고", "본문입니다.\n")
SMS = SmsMessage("ob_sms", OWNER_PHONE, "[업비트] 경고 문자")


async def test_sendgrid_send_carries_the_outbox_id_and_returns_the_message_id(
    sendgrid: sg.FakeSendGrid, email_port: SendGridEmail
) -> None:
    accepted = await email_port.send(MAIL)
    (mail,) = sendgrid.accepted
    assert accepted.message_id == mail.message_id
    assert (mail.to, mail.subject, mail.text) == (OWNER_EMAIL, MAIL.subject, MAIL.text)
    assert mail.custom_args == {"outbox_id": "ob_mail"}


async def test_sendgrid_429_is_transient_and_waits_for_the_reset_time(
    sendgrid: sg.FakeSendGrid, email_port: SendGridEmail
) -> None:
    sendgrid.script(sg.rate_limited(reset_in=30))
    with pytest.raises(TransientSendError) as raised:
        await email_port.send(MAIL)
    assert raised.value.retry_after is not None
    assert timedelta(seconds=25) < raised.value.retry_after <= timedelta(seconds=30)
    assert not raised.value.in_doubt and sendgrid.accepted == []


@pytest.mark.parametrize("status", [400, 403])
async def test_sendgrid_rejection_is_permanent(
    sendgrid: sg.FakeSendGrid, email_port: SendGridEmail, status: int
) -> None:
    sendgrid.script(sg.rejected(status))
    with pytest.raises(PermanentSendError, match=f"sendgrid {status}"):
        await email_port.send(MAIL)


async def test_sendgrid_5xx_and_dropped_answers_leave_the_send_in_doubt(
    sendgrid: sg.FakeSendGrid, email_port: SendGridEmail
) -> None:
    sendgrid.script(sg.server_error(503), sg.accepted_then_dropped())
    for _ in range(2):
        with pytest.raises(TransientSendError) as raised:
            await email_port.send(MAIL)
        assert raised.value.in_doubt
    assert len(sendgrid.accepted) == 1  # the dropped answer hid an accepted mail


async def test_sendgrid_unreachable_is_transient_and_certainly_not_sent() -> None:
    port = SendGridEmail("key", "no-reply@keycase.test", host="http://127.0.0.1:1", timeout=1)
    with pytest.raises(TransientSendError) as raised:
        await port.send(MAIL)
    assert not raised.value.in_doubt


async def test_sendgrid_find_uses_the_activity_feed_when_the_account_has_it(
    sendgrid: sg.FakeSendGrid, email_port: SendGridEmail
) -> None:
    accepted = await email_port.send(MAIL)
    since = datetime.now(UTC)
    assert await email_port.find(MAIL, since) is None  # no add-on: 403, nothing learned
    sendgrid.activity_feed = True
    assert await email_port.find(MAIL, since) == accepted
    other = EmailMessage("ob_other", OWNER_EMAIL, "s", "t")
    assert await email_port.find(other, since) is None


async def test_twilio_send_asks_for_status_callbacks_naming_the_outbox_row(
    twilio: tw.FakeTwilio, sms_port: TwilioSms
) -> None:
    accepted = await sms_port.send(SMS)
    (sms,) = twilio.accepted
    assert accepted.message_id == sms.sid
    assert (sms.to, sms.from_, sms.body) == (OWNER_PHONE, FROM_NUMBER, SMS.text)
    assert sms.status_callback == f"{TWILIO_CALLBACK}?outbox_id=ob_sms"


@pytest.mark.parametrize("code", [21211, 21610, 21614])
async def test_twilio_invalid_or_unsubscribed_number_is_permanent(
    twilio: tw.FakeTwilio, sms_port: TwilioSms, code: int
) -> None:
    twilio.script(tw.error(code))
    with pytest.raises(PermanentSendError, match=str(code)):
        await sms_port.send(SMS)


async def test_twilio_429_is_transient_and_honours_retry_after(
    twilio: tw.FakeTwilio, sms_port: TwilioSms
) -> None:
    twilio.script(tw.rate_limited(retry_after=7), tw.error(21611))
    with pytest.raises(TransientSendError) as raised:
        await sms_port.send(SMS)
    assert raised.value.retry_after == timedelta(seconds=7) and not raised.value.in_doubt
    with pytest.raises(TransientSendError) as queue_full:  # back-pressure, not permanent
        await sms_port.send(SMS)
    assert not queue_full.value.in_doubt


async def test_twilio_5xx_timeout_and_dropped_answers_leave_the_send_in_doubt(
    twilio: tw.FakeTwilio, sms_port: TwilioSms
) -> None:
    twilio.script(tw.server_error(), tw.accepted_then_dropped(), tw.accepted_then_slow(3))
    for _ in range(3):
        with pytest.raises(TransientSendError) as raised:
            await sms_port.send(SMS)
        assert raised.value.in_doubt
    assert len(twilio.accepted) == 2


async def test_twilio_find_sees_an_accepted_message_with_the_same_text(
    twilio: tw.FakeTwilio, sms_port: TwilioSms
) -> None:
    since = datetime.now(UTC)
    assert await sms_port.find(SMS, since) is None
    twilio.script(tw.accepted_then_dropped())
    with pytest.raises(TransientSendError):
        await sms_port.send(SMS)
    found = await sms_port.find(SMS, since)
    assert found is not None and found.message_id == twilio.accepted[0].sid
    assert await sms_port.find(SmsMessage("ob_x", OWNER_PHONE, "other text"), since) is None
