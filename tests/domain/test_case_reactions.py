"""What the case decides in reply to each event, and the effects it asks for."""

from datetime import timedelta

from domain import case_reactions, stage_rules
from domain.activity_io import ChannelOutcome, KeyMeasure
from domain.alerts import Severity
from domain.audit_events import EventType
from domain.messages import DeliveryEvent, KycResult
from domain.notices import Channel, DeliveryStatus, ExpiryReason, NoticeKind
from domain.officer import DismissInput, ExpireNowInput, OfficerAction
from domain.stages import CaseStage
from tests.domain.case_builders import POLICY, T0, alert, new_case, with_alerts

LATER = T0 + timedelta(minutes=5)


def _sent(notice_id: str) -> list[ChannelOutcome]:
    return [
        ChannelOutcome(channel=c, status=DeliveryStatus.SENT, outbox_id=f"{notice_id}:{c.value}")
        for c in Channel
    ]


def _types(effects: case_reactions.Effects) -> list[str]:
    return [f.event_type for f in effects.facts]


def test_new_case_records_opening_and_monitors_key() -> None:
    effects = case_reactions.on_open(new_case())

    assert _types(effects) == [EventType.CASE_OPENED, EventType.STAGE_CHANGED]
    assert effects.measure is not None and effects.measure.measure is KeyMeasure.MONITOR


def test_critical_alert_warns_restricts_and_asks_for_warning_notice() -> None:
    state, effects = case_reactions.on_alerts(
        new_case(), [alert(1, Severity.CRITICAL)], 0, POLICY, T0
    )

    assert state.stage is CaseStage.WARNED
    assert _types(effects) == [EventType.ALERT_RECEIVED, EventType.STAGE_CHANGED]
    assert effects.facts[0].event_id == "alert:a-1"
    assert effects.measure is not None and effects.measure.measure is KeyMeasure.RESTRICT
    assert [n.notice_id for n in effects.notices] == ["warning"]
    assert effects.notices[0].deadline == state.kyc_deadline


def test_sent_warning_starts_the_kyc_wait() -> None:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)

    state, effects = case_reactions.on_sent(state, "warning", _sent("warning"), None, LATER)

    assert state.stage is CaseStage.AWAITING_KYC
    assert _types(effects) == [EventType.STAGE_CHANGED]  # the send recorded its own outcome


def test_passed_kyc_restores_key_and_tells_owner() -> None:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    result = KycResult(passed=True, reference="r-1", actor="kyc", received_at=LATER)

    state, effects = case_reactions.on_kyc(state, result, POLICY, LATER)

    assert state.stage is CaseStage.PROBATION
    assert effects.measure is not None and effects.measure.measure is KeyMeasure.RESTORE
    assert [n.kind for n in effects.notices] == [NoticeKind.RESTORED]


def test_kyc_result_outside_the_wait_is_only_recorded() -> None:
    state = with_alerts(new_case(), alert(1))
    result = KycResult(passed=False, reference="r-1", actor="kyc", received_at=LATER)

    after, effects = case_reactions.on_kyc(state, result, POLICY, LATER)

    assert after.stage is CaseStage.MONITORING
    assert _types(effects) == [EventType.KYC_RESULT]
    assert effects.measure is None


def test_expiry_closes_the_case_then_expires_the_key_and_tells_the_owner() -> None:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    deadline = state.kyc_deadline
    assert deadline is not None
    state, _ = case_reactions.on_sent(state, "warning", _sent("warning"), None, LATER)

    state, expiring = case_reactions.on_time(state, deadline)
    state, told = case_reactions.on_sent(state, "expiry", _sent("expiry"), None, deadline)

    assert state.stage is CaseStage.EXPIRED
    assert _types(expiring) == [EventType.STAGE_CHANGED, EventType.CASE_CLOSED]
    assert expiring.measure is not None and expiring.measure.measure is KeyMeasure.EXPIRE
    assert [n.notice_id for n in expiring.notices] == ["expiry"]
    assert _types(told) == []  # the send recorded its own outcome


def test_reminders_fall_due_one_by_one() -> None:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    state, _ = case_reactions.on_sent(state, "warning", _sent("warning"), None, LATER)
    first = stage_rules.reminders(state)[0]

    state, effects = case_reactions.on_time(state, first.at)
    again, nothing = case_reactions.on_time(state, first.at)

    assert [n.notice_id for n in effects.notices] == [first.notice_id]
    assert nothing.notices == ()
    assert again.stage is CaseStage.AWAITING_KYC


def test_dismiss_unflags_key_and_closes_at_once() -> None:
    state = with_alerts(new_case(), alert(1))
    command = DismissInput(actor="kim", reason="market maker")

    state, effects = case_reactions.on_action(state, OfficerAction.DISMISS, command, POLICY, LATER)

    assert state.stage is CaseStage.DISMISSED
    assert _types(effects) == [
        EventType.OFFICER_ACTION,
        EventType.STAGE_CHANGED,
        EventType.CASE_CLOSED,
    ]
    assert effects.measure is not None and effects.measure.measure is KeyMeasure.UNFLAG
    assert effects.measure.actor == "kim"


def test_alerts_after_a_dismissal_are_passed_on_and_leave_the_case_as_it_ended() -> None:
    dismissed, _ = case_reactions.on_action(
        with_alerts(new_case(), alert(1)),
        OfficerAction.DISMISS,
        DismissInput(actor="kim", reason="market maker"),
        POLICY,
        LATER,
    )

    state, effects = case_reactions.on_alerts(dismissed, [alert(2)], 1, POLICY, LATER)

    assert stage_rules.passes_alerts_on(dismissed)
    assert (state.stage, state.alerts.count, state.alerts.duplicates) == (
        CaseStage.DISMISSED,
        1,
        1,
    )
    assert _types(effects) == [EventType.ALERT_PASSED_ON]
    assert effects.facts[0].payload["alert_id"] == alert(2).alert_id
    assert effects.measure is None and effects.notices == ()


def test_alerts_after_an_expiry_stay_on_the_case_that_expired_the_key() -> None:
    expired, _ = case_reactions.on_action(
        with_alerts(new_case(), alert(1)),
        OfficerAction.EXPIRE_NOW,
        ExpireNowInput(actor="kim", reason="lent to a bot"),
        POLICY,
        LATER,
    )

    state, effects = case_reactions.on_alerts(expired, [alert(2)], 0, POLICY, LATER)

    assert not stage_rules.passes_alerts_on(expired)
    assert (state.stage, state.alerts.count) == (CaseStage.EXPIRED, 2)
    assert _types(effects) == [EventType.ALERT_RECEIVED]
    assert effects.measure is None and effects.notices == ()


def test_later_measure_wins_when_effects_combine() -> None:
    opening = case_reactions.on_open(new_case())
    _, dismissal = case_reactions.on_action(
        with_alerts(new_case(), alert(1)),
        OfficerAction.DISMISS,
        DismissInput(actor="kim", reason="r"),
        POLICY,
        LATER,
    )

    combined = opening.then(dismissal)

    assert combined.measure is not None and combined.measure.measure is KeyMeasure.UNFLAG
    assert len(combined.facts) == len(opening.facts) + len(dismissal.facts)


def test_delivery_report_advances_status_once() -> None:
    state, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    state, _ = case_reactions.on_sent(state, "warning", _sent("warning"), None, LATER)
    report = DeliveryEvent(
        notice_id="warning",
        channel=Channel.SMS,
        status=DeliveryStatus.DELIVERED,
        outbox_id="warning:sms",
        occurred_at=LATER,
    )

    state, effects = case_reactions.on_delivery(state, report, LATER)
    _, repeated = case_reactions.on_delivery(state, report, LATER)

    assert _types(effects) == [EventType.NOTICE_DELIVERY]
    assert repeated.facts == ()
    warning = state.notice("warning")
    assert warning is not None
    assert {c.channel: c.status for c in warning.channels}[Channel.SMS] is DeliveryStatus.DELIVERED


def test_each_expiry_tells_the_owner_its_reason_and_date() -> None:
    warned, _ = case_reactions.on_alerts(new_case(), [alert(1, Severity.HIGH)], 0, POLICY, T0)
    waiting, _ = case_reactions.on_sent(warned, "warning", _sent("warning"), None, LATER)
    deadline = waiting.kyc_deadline
    assert deadline is not None
    failed = KycResult(passed=False, reference="r-1", actor="kyc", received_at=LATER)
    passed = failed.model_copy(update={"passed": True})
    probation, restoring = case_reactions.on_kyc(waiting, passed, POLICY, LATER)
    officer = ExpireNowInput(actor="kim", reason="confirmed lending")

    expiries = {
        "deadline": case_reactions.on_time(waiting, deadline)[1],
        "kyc": case_reactions.on_kyc(waiting, failed, POLICY, LATER)[1],
        "officer": case_reactions.on_action(
            waiting, OfficerAction.EXPIRE_NOW, officer, POLICY, LATER
        )[1],
        "probation": case_reactions.on_alerts(probation, [alert(2)], 0, POLICY, LATER)[1],
    }

    told = {name: effects.notices[-1] for name, effects in expiries.items()}
    assert {name: n.expiry_reason for name, n in told.items()} == {
        "deadline": ExpiryReason.DEADLINE_PASSED,
        "kyc": ExpiryReason.KYC_FAILED,
        "officer": ExpiryReason.OFFICER,
        "probation": ExpiryReason.ALERT_IN_PROBATION,
    }
    assert told["deadline"].deadline == deadline
    assert told["officer"].officer_reason == "confirmed lending"
    assert told["probation"].deadline == probation.probation_until
    assert restoring.notices[0].deadline == probation.probation_until  # when probation ends
