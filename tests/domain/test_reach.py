"""Which channel reached the owner; retries through the other channel; OWNER_UNREACHABLE."""

from datetime import timedelta

from domain import case_reactions
from domain.activity_io import ChannelOutcome
from domain.alerts import Severity
from domain.case import CaseState
from domain.messages import DeliveryEvent
from domain.notices import Channel, DeliveryStatus
from domain.stages import CaseStage
from tests.domain.case_builders import POLICY, T0, alert, new_case

LATER = T0 + timedelta(minutes=5)


def _outcomes(notice_id: str, failed: set[Channel], *channels: Channel) -> list[ChannelOutcome]:
    return [
        ChannelOutcome(
            channel=c,
            status=DeliveryStatus.FAILED if c in failed else DeliveryStatus.SENT,
            outbox_id=f"{notice_id}:{c.value}",
            provider_message_id=None if c in failed else f"msg-{notice_id}-{c.value}",
            error="refused" if c in failed else None,
        )
        for c in channels or tuple(Channel)
    ]


def _warned() -> CaseState:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    return state


def test_warning_refused_on_email_reaches_the_owner_by_sms_and_starts_the_wait() -> None:
    state, effects = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", {Channel.EMAIL}), None, LATER
    )

    assert state.stage is CaseStage.AWAITING_KYC
    assert state.stages[-1].reason == "warning sent by sms"
    warning = state.notice("warning")
    assert warning is not None and warning.reached_by == [Channel.SMS]
    assert effects.notices == ()  # the other channel already reached the owner


def test_warning_refused_on_both_channels_is_retried_through_each_other_channel() -> None:
    state, effects = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", set(Channel)), None, LATER
    )

    assert state.stage is CaseStage.WARNED  # no deadline runs: nobody was told yet
    assert [(n.notice_id, n.channels) for n in effects.notices] == [
        ("warning:via:sms", (Channel.SMS,)),
        ("warning:via:email", (Channel.EMAIL,)),
    ]
    retry = state.notice("warning:via:email")
    assert retry is not None and retry.fallback_of == "warning" and retry.via is Channel.EMAIL


def test_a_retry_that_gets_through_starts_the_wait_and_shows_the_channel() -> None:
    state, _ = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", set(Channel)), None, LATER
    )
    state, _ = case_reactions.on_sent(
        state, "warning:via:sms", _outcomes("w-sms", {Channel.SMS}, Channel.SMS), None, LATER
    )
    assert state.stage is CaseStage.WARNED  # the e-mail retry is still in flight

    state, effects = case_reactions.on_sent(
        state, "warning:via:email", _outcomes("w-email", set(), Channel.EMAIL), None, LATER
    )

    assert state.stage is CaseStage.AWAITING_KYC
    warning = state.notice("warning")
    assert warning is not None and warning.reached_by == [Channel.EMAIL]
    assert effects.notices == ()


def test_owner_no_channel_reaches_waits_unreachable_for_an_officer() -> None:
    state, _ = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", set(Channel)), None, LATER
    )
    for channel in Channel:
        notice_id = f"warning:via:{channel.value}"
        state, effects = case_reactions.on_sent(
            state, notice_id, _outcomes(notice_id, {channel}, channel), None, LATER
        )
        assert effects.notices == ()  # each channel is retried once

    assert state.stage is CaseStage.OWNER_UNREACHABLE
    assert state.stage.is_open
    _, later = case_reactions.on_time(state, LATER + timedelta(days=30))
    assert later.measure is None  # no deadline expires it: an officer's expire-now does


def test_a_bounce_after_the_other_channel_failed_retries_through_it() -> None:
    state, _ = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", {Channel.SMS}), None, LATER
    )
    assert state.stage is CaseStage.AWAITING_KYC
    bounce = DeliveryEvent(
        notice_id="warning",
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        outbox_id="warning:email",
        detail="bounce",
        occurred_at=LATER,
    )

    state, effects = case_reactions.on_delivery(state, bounce, LATER)

    assert [(n.notice_id, n.channels) for n in effects.notices] == [
        ("warning:via:sms", (Channel.SMS,))  # never again to the address that bounced
    ]
    warning = state.notice("warning")
    assert warning is not None and warning.reached_by == []
    state, _ = case_reactions.on_sent(
        state, "warning:via:sms", _outcomes("w", {Channel.SMS}, Channel.SMS), None, LATER
    )
    assert state.stage is CaseStage.OWNER_UNREACHABLE


def test_older_releases_rules_wait_for_kyc_after_any_warning() -> None:
    state, effects = case_reactions.on_sent(
        _warned(), "warning", _outcomes("warning", set(Channel)), None, LATER, reach_rules=False
    )

    assert state.stage is CaseStage.AWAITING_KYC
    assert effects.notices == ()
