"""The ladder's pure rules: aggregation, escalation, windows, deadlines, reminders."""

from datetime import timedelta

from domain import stage_rules
from domain.alerts import AlertKind, Severity
from domain.case import NoticeRecord
from domain.notices import NoticeKind
from domain.stages import CaseStage
from tests.domain.case_builders import POLICY, T0, alert, new_case, warned, with_alerts


def test_repeated_alert_ids_are_dropped_within_a_batch_and_against_the_seen_window() -> None:
    fresh, repeats = stage_rules.fresh_alerts([alert(1), alert(2), alert(1), alert(3)], {"a-3"})

    assert [a.alert_id for a in fresh] == ["a-1", "a-2"]
    assert repeats == 2


def test_alerts_aggregate_counts_kinds_and_highest_severity() -> None:
    state = with_alerts(
        new_case(),
        alert(1, Severity.LOW, AlertKind.IP_ANOMALY),
        alert(2, Severity.HIGH, AlertKind.KEY_SHARING),
        alert(3, Severity.MEDIUM, AlertKind.IP_ANOMALY),
    )

    assert state.alerts.count == 3
    assert state.alerts.kinds == {AlertKind.IP_ANOMALY: 2, AlertKind.KEY_SHARING: 1}
    assert state.alerts.highest_severity is Severity.HIGH
    assert state.severity is Severity.HIGH
    assert state.alerts.recent_ids == ["a-1", "a-2", "a-3"]


def test_recent_alert_ids_stay_bounded() -> None:
    state = with_alerts(new_case(), *(alert(n) for n in range(100)))

    assert state.alerts.count == 100
    assert len(state.alerts.recent_ids) == 20
    assert state.alerts.recent_ids[-1] == "a-99"


def test_escalation_needs_the_severitys_alert_count() -> None:
    low = with_alerts(new_case(), alert(1, Severity.LOW), alert(2, Severity.LOW))
    assert not stage_rules.should_escalate(low, POLICY)
    assert stage_rules.should_escalate(with_alerts(low, alert(3, Severity.LOW)), POLICY)
    assert stage_rules.should_escalate(with_alerts(new_case(), alert(1, Severity.HIGH)), POLICY)


def test_quiet_window_restarts_with_each_alert_and_follows_severity() -> None:
    state = with_alerts(new_case(), alert(1, Severity.LOW))
    assert state.monitoring_until == T0 + timedelta(days=7)

    later = with_alerts(state, alert(2, Severity.MEDIUM), at=T0 + timedelta(days=2))

    assert later.monitoring_until == T0 + timedelta(days=5)  # medium watches 3 days
    assert not stage_rules.is_quiet_window_over(later, T0 + timedelta(days=4))
    assert stage_rules.is_quiet_window_over(later, T0 + timedelta(days=5))


def test_warning_sets_deadline_maximum_and_pins_reminders() -> None:
    state = warned(Severity.CRITICAL)
    at = T0 + timedelta(minutes=1)

    assert state.stage is CaseStage.WARNED
    assert state.kyc_deadline == at + timedelta(days=2)
    assert state.kyc_deadline_max == at + timedelta(days=7)
    assert state.monitoring_until is None
    assert stage_rules.needs_restriction(state, POLICY)


def test_reminders_fall_before_the_deadline_and_the_deadline_is_the_last_wakeup() -> None:
    state = warned(Severity.HIGH)
    deadline = state.kyc_deadline
    assert deadline is not None

    due = stage_rules.reminders(state)

    assert [(r.notice_id, deadline - r.at) for r in due] == [
        ("kyc_reminder:0:P1D", timedelta(days=1)),
        ("kyc_reminder:0:PT6H", timedelta(hours=6)),
    ]
    assert stage_rules.next_wakeup(state) == due[0].at
    told = stage_rules.change_stage(state, CaseStage.AWAITING_KYC, T0, "warning sent by email")
    assert not stage_rules.is_kyc_deadline_passed(told, deadline - timedelta(seconds=1))
    assert stage_rules.is_kyc_deadline_passed(told, deadline)


def test_the_deadline_does_not_pass_before_a_provider_accepted_the_warning() -> None:
    state = warned(Severity.HIGH)
    deadline = state.kyc_deadline
    assert deadline is not None
    asked = [r.notice_id for r in stage_rules.reminders(state)]
    reminded = state.model_copy(
        update={
            "notices": [
                NoticeRecord(notice_id=n, kind=NoticeKind.KYC_REMINDER, requested_at=T0)
                for n in asked
            ]
        }
    )

    assert not stage_rules.is_kyc_deadline_passed(state, deadline)
    assert stage_rules.next_wakeup(reminded) is None  # no deadline timer while nobody was told
    assert stage_rules.is_kyc_deadline_passed(state, deadline, while_warned=True)  # older releases
    assert stage_rules.next_wakeup(reminded, while_warned=True) == deadline


def test_reminders_after_an_extension_skip_times_already_past() -> None:
    state = warned(Severity.HIGH)
    assert state.kyc_deadline is not None
    extended_at = state.kyc_deadline - timedelta(hours=3)
    state = state.model_copy(
        update={
            "kyc_deadline": state.kyc_deadline + timedelta(hours=12),
            "kyc_deadline_revision": 1,
            "kyc_deadline_revised_at": extended_at,
        }
    )

    # The new P1D reminder would fall before the extension; only PT6H is still ahead.
    assert [r.notice_id for r in stage_rules.reminders(state)] == ["kyc_reminder:1:PT6H"]


def test_probation_lasts_the_policys_time_then_is_over() -> None:
    state = stage_rules.start_probation(warned(Severity.HIGH), POLICY, T0 + timedelta(days=1))

    assert state.probation_until == T0 + timedelta(days=61)
    assert stage_rules.next_wakeup(state) == state.probation_until
    assert stage_rules.is_probation_over(state, T0 + timedelta(days=61))


def test_closing_stage_sets_closed_time_and_ends_wakeups() -> None:
    state = stage_rules.change_stage(new_case(), CaseStage.CLEARED, T0 + timedelta(days=3), "quiet")

    assert state.closed_at == T0 + timedelta(days=3)
    assert stage_rules.next_wakeup(state) is None
