"""A key is never expired by a deadline its owner was never told of."""

from datetime import timedelta

from domain import search_attributes
from domain.activity_io import KeyMeasure
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.messages import DeliveryEvent
from domain.notices import Channel, DeliveryStatus
from domain.officer import ExpireNowInput, OfficerAction, OfficerActionResult
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness


async def test_owner_no_channel_reaches_waits_for_an_officer_past_the_deadline(
    harness: CaseHarness,
) -> None:
    harness.notices.failing = set(Channel)
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.OWNER_UNREACHABLE)
    assert state.kyc_deadline is not None

    await harness.env.sleep(state.kyc_deadline - state.opened_at + timedelta(days=1))
    waiting = await harness.state(handle)
    described = await handle.describe()
    measures_while_waiting = [m.measure for m in harness.store.measures]
    await handle.execute_update(
        OfficerAction.EXPIRE_NOW.value,
        ExpireNowInput(actor="lee", reason="owner unreachable, key lent"),
        result_type=OfficerActionResult,
    )
    final = await handle.result()

    assert waiting.stage is CaseStage.OWNER_UNREACHABLE
    assert measures_while_waiting == [KeyMeasure.MONITOR]
    assert (
        described.typed_search_attributes.get(search_attributes.CASE_STAGE) == "OWNER_UNREACHABLE"
    )
    assert set(harness.notices.ids()[:3]) == {"warning", "warning:via:sms", "warning:via:email"}
    assert not any(n.startswith("kyc_reminder") for n in harness.notices.ids())
    assert final.stage is CaseStage.EXPIRED
    assert final.stages[-1].actor == "lee"
    assert harness.store.measures[-1].measure is KeyMeasure.EXPIRE


async def test_a_retry_through_the_other_channel_starts_the_wait(harness: CaseHarness) -> None:
    harness.notices.failing_for = {"warning": set(Channel), "warning:via:sms": {Channel.SMS}}
    handle = await harness.open(Severity.HIGH)

    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)

    warning = state.notice("warning")
    assert warning is not None and warning.reached_by == [Channel.EMAIL]
    assert state.stages[-1].reason == "warning sent by email"


async def test_a_bounce_with_no_other_channel_left_makes_the_owner_unreachable(
    harness: CaseHarness,
) -> None:
    harness.notices.failing = {Channel.SMS}
    handle = await harness.open(Severity.HIGH)
    state = await harness.until(handle, lambda s: s.stage is CaseStage.AWAITING_KYC)
    warning = state.notice("warning")
    assert warning is not None and warning.reached_by == [Channel.EMAIL]
    email = next(c for c in warning.channels if c.channel is Channel.EMAIL)

    await handle.signal(
        "delivery_event",
        DeliveryEvent(
            notice_id="warning",
            channel=Channel.EMAIL,
            status=DeliveryStatus.FAILED,
            outbox_id=email.outbox_id,
            detail="bounce",
            occurred_at=state.opened_at + timedelta(minutes=5),
        ),
    )
    state = await harness.until(handle, lambda s: s.stage is CaseStage.OWNER_UNREACHABLE)

    assert harness.notices.ids() == ["warning", "warning:via:sms"]
    [retry_fact] = [
        f
        for f in harness.store.of_type(EventType.NOTICE_SENT)
        if f.payload["notice_id"] == "warning:via:sms"
    ]
    assert [c["channel"] for c in retry_fact.payload["channels"]] == ["sms"]
