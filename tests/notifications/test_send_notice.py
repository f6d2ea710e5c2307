"""send_notice with the real SDKs against the fakes: each channel once, failures classified."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NoticeActivities, NoticeRenderer, build_channels
from activities.notifications.console import ConsoleEmail, ConsoleSms
from activities.notifications.ports import EmailPort, SmsPort
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from config.settings import Settings
from domain.activity_io import SendNoticeInput, SendNoticeResult
from domain.audit_events import EventType
from domain.notices import Channel, DeliveryStatus
from store.audit import audit_rows
from store.outbox import NotificationOutbox
from store.port import Store
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.notifications.support import OWNER_PHONE, add_owner, warning


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _activities(
    store: Store,
    email: EmailPort,
    sms: SmsPort,
    clock: Clock | None = None,
    settle_window: timedelta = timedelta(minutes=10),
    max_attempts: int = 10,
) -> NoticeActivities:
    return NoticeActivities(store, email, sms, NoticeRenderer(), clock, settle_window, max_attempts)


async def _send(activities: NoticeActivities, notice: SendNoticeInput) -> SendNoticeResult:
    return await ActivityEnvironment().run(activities.send_notice, notice)


def _by_channel(result: SendNoticeResult) -> dict[Channel, DeliveryStatus]:
    return {o.channel: o.status for o in result.outcomes}


async def _notice_facts(store: Store) -> list[dict[str, Any]]:
    """The payloads of the case's `notice.sent` audit rows."""
    rows = await store.read(lambda c: audit_rows(c, case_id=warning().case_id))
    return [row.payload for row in rows if row.event_type == EventType.NOTICE_SENT]


async def test_a_retry_through_one_channel_sends_on_that_channel_only(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    activities = _activities(store, email_port, sms_port)

    result = await _send(activities, warning(notice_id="warning:via:sms", channels=["sms"]))

    assert _by_channel(result) == {Channel.SMS: DeliveryStatus.SENT}
    assert len(twilio.accepted) == 1 and sendgrid.accepted == []
    [fact] = await _notice_facts(store)
    assert [c["channel"] for c in fact["channels"]] == ["sms"]


async def test_the_activity_heartbeats_while_a_provider_is_slow(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    """A lost worker stops heartbeating: the server retries its notice within seconds."""
    await add_owner(store)
    sendgrid.script(sg.accepted_then_slow(1.5))
    beats: list[object] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(details)

    result = await env.run(_activities(store, email_port, sms_port).send_notice, warning())

    assert _by_channel(result)[Channel.EMAIL] is DeliveryStatus.SENT
    assert len(beats) >= 2  # one a second (HEARTBEAT_EVERY), the slow call included


async def test_notice_goes_out_once_per_channel_however_often_it_runs(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    activities = _activities(store, email_port, sms_port)
    first = await _send(activities, warning())
    again = await _send(activities, warning())
    assert again == first
    assert _by_channel(first) == {
        Channel.EMAIL: DeliveryStatus.SENT,
        Channel.SMS: DeliveryStatus.SENT,
    }
    assert len(sendgrid.accepted) == 1 and len(twilio.accepted) == 1
    ids = {o.channel: o.provider_message_id for o in first.outcomes}
    assert ids == {
        Channel.EMAIL: sendgrid.accepted[0].message_id,
        Channel.SMS: twilio.accepted[0].sid,
    }
    assert sendgrid.accepted[0].subject.startswith("[업비트] API 키 이용 경고")
    assert sendgrid.accepted[0].custom_args["outbox_id"] == first.outcomes[0].outbox_id
    [fact] = await _notice_facts(store)  # recorded with the outcome, once
    assert fact["notice_id"] == "warning"
    assert {c["channel"]: c["provider_message_id"] for c in fact["channels"]} == {
        "email": sendgrid.accepted[0].message_id,
        "sms": twilio.accepted[0].sid,
    }


async def test_english_account_gets_the_english_notice(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store, locale="en")
    await _send(_activities(store, email_port, sms_port), warning())
    assert sendgrid.accepted[0].subject.startswith("[Upbit] Warning about your API key")
    assert twilio.accepted[0].body.startswith("[Upbit] Suspected key lending or sharing")


async def test_invalid_number_fails_sms_for_good_and_email_still_goes(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    twilio.script(tw.error(21211))
    activities = _activities(store, email_port, sms_port)
    result = await _send(activities, warning())
    assert _by_channel(result) == {
        Channel.EMAIL: DeliveryStatus.SENT,
        Channel.SMS: DeliveryStatus.FAILED,
    }
    error = result.outcomes[1].error or ""
    assert "21211" in error and "is not a valid phone number" in error
    assert OWNER_PHONE not in error and OWNER_PHONE[1:] not in error  # masked for the case
    assert result.reached_someone
    await _send(activities, warning())
    assert len(twilio.requests) == 1  # a failed channel is never tried again


async def test_rate_limited_email_is_retried_later_after_the_sms_went_out(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    sendgrid.script(sg.rate_limited(reset_in=30))
    activities = _activities(store, email_port, sms_port)
    with pytest.raises(ApplicationError) as raised:
        await _send(activities, warning())
    assert not raised.value.non_retryable
    assert raised.value.next_retry_delay is not None
    assert timedelta(seconds=25) < raised.value.next_retry_delay <= timedelta(seconds=30)
    assert len(twilio.accepted) == 1 and sendgrid.accepted == []
    assert await _notice_facts(store) == []  # not before every channel has its outcome
    result = await _send(activities, warning())
    assert _by_channel(result) == {
        Channel.EMAIL: DeliveryStatus.SENT,
        Channel.SMS: DeliveryStatus.SENT,
    }
    assert len(twilio.accepted) == 1 and len(sendgrid.accepted) == 1
    [fact] = await _notice_facts(store)
    assert [c["status"] for c in fact["channels"]] == ["sent", "sent"]


async def test_sms_of_unknown_fate_is_found_at_twilio_not_sent_again(
    store: Store,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    twilio.script(tw.accepted_then_dropped())
    activities = _activities(store, email_port, sms_port)
    with pytest.raises(ApplicationError, match="sms"):
        await _send(activities, warning())
    result = await _send(activities, warning())
    assert len(twilio.accepted) == 1
    assert result.outcomes[1].provider_message_id == twilio.accepted[0].sid


async def test_email_of_unknown_fate_waits_for_evidence_then_is_sent_again(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    clock = Clock()
    sendgrid.script(sg.server_error(502))
    activities = _activities(
        store, email_port, sms_port, clock, settle_window=timedelta(minutes=10)
    )
    with pytest.raises(ApplicationError, match="sendgrid 502"):
        await _send(activities, warning())
    clock.now += timedelta(minutes=1)
    with pytest.raises(ApplicationError, match="waiting for evidence") as waiting:
        await _send(activities, warning())
    assert waiting.value.next_retry_delay == timedelta(minutes=9)
    assert len(sendgrid.requests) == 2  # the send and one look at the activity feed
    clock.now += timedelta(minutes=10)
    result = await _send(activities, warning())
    assert result.outcomes[0].status == DeliveryStatus.SENT
    assert len(sendgrid.accepted) == 1


async def test_email_of_unknown_fate_found_in_the_activity_feed_is_not_sent_again(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    sendgrid.activity_feed = True
    sendgrid.script(sg.accepted_then_dropped())
    activities = _activities(store, email_port, sms_port)
    with pytest.raises(ApplicationError):
        await _send(activities, warning())
    result = await _send(activities, warning())
    assert result.outcomes[0].provider_message_id == sendgrid.accepted[0].message_id
    assert len(sendgrid.accepted) == 1


async def test_a_channel_that_keeps_failing_is_given_up_so_the_case_moves_on(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(store)
    sendgrid.script(sg.rate_limited(0), sg.rate_limited(0))
    activities = _activities(store, email_port, sms_port, max_attempts=2)
    for _ in range(2):
        with pytest.raises(ApplicationError):
            await _send(activities, warning())
    result = await _send(activities, warning())
    assert result.outcomes[0].status == DeliveryStatus.FAILED
    assert "gave up after 2 attempts" in (result.outcomes[0].error or "")
    assert result.outcomes[1].status == DeliveryStatus.SENT


async def test_unknown_account_fails_both_channels_without_calling_anyone(
    store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    result = await _send(_activities(store, email_port, sms_port), warning())
    assert _by_channel(result) == {
        Channel.EMAIL: DeliveryStatus.FAILED,
        Channel.SMS: DeliveryStatus.FAILED,
    }
    assert not result.reached_someone
    assert sendgrid.requests == [] and twilio.requests == []


async def test_without_credentials_notices_are_printed_and_recorded_as_not_sent(
    store: Store,
) -> None:
    await add_owner(store)
    printed = io.StringIO()
    channels = build_channels(Settings(_env_file=None), stream=printed)
    assert isinstance(channels.email, ConsoleEmail) and isinstance(channels.sms, ConsoleSms)
    result = await _send(_activities(store, channels.email, channels.sms), warning())
    assert "기한: 2026년 11월 28일 (토) 15:00 KST" in printed.getvalue()
    assert "not sent: no SendGrid credentials" in printed.getvalue()
    rows = await store.read(lambda c: NotificationOutbox(c).for_case("K-1.run-1"))
    assert [(r.channel, r.provider) for r in rows] == [
        (Channel.EMAIL, "console"),
        (Channel.SMS, "console"),
    ]
    assert all(o.provider_message_id is None for o in result.outcomes)


def test_credentials_in_settings_choose_sendgrid_and_twilio() -> None:
    settings = Settings(
        _env_file=None,
        sendgrid_api_key=SecretStr("SG.x"),
        twilio_account_sid="AC1",
        twilio_auth_token=SecretStr("t"),
        twilio_from_number="+15005550006",
    )
    channels = build_channels(settings)
    assert isinstance(channels.email, SendGridEmail) and isinstance(channels.sms, TwilioSms)
