"""What a case does in reply to each thing that happens to it: a new case and its effects.

Each `on_*` function takes the case, what happened and the time, and returns the changed
case with the `Effects` it asks for (audit facts, at most one key measure, notices).
The workflow runs the effects; nothing here does I/O or reads a clock.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain import audit_events as facts
from domain import stage_rules
from domain.actions import apply_action
from domain.activity_io import AuditFact, ChannelOutcome, KeyMeasure, KeyStateResult
from domain.alerts import Alert
from domain.case import CaseState
from domain.messages import DeliveryEvent, KycResult
from domain.notice_log import apply_delivery, complete_notice, request_notice
from domain.notices import NoticeKind
from domain.officer import OfficerAction, OfficerInput
from domain.policy import LadderPolicy
from domain.stages import CaseStage


class MeasureRequest(BaseModel):
    """A change the case asks of the key registry."""

    model_config = ConfigDict(frozen=True)

    measure: KeyMeasure
    reason: str
    actor: str = "keycase"


class NoticeRequest(BaseModel):
    """A notice the case asks to send (already noted in the case as in flight)."""

    model_config = ConfigDict(frozen=True)

    notice_id: str
    kind: NoticeKind
    deadline: datetime | None = None


class Effects(BaseModel):
    """The side effects one decision asks for, in the order they must happen."""

    model_config = ConfigDict(frozen=True)

    facts: tuple[AuditFact, ...] = ()
    measure: MeasureRequest | None = None  # the latest decision about the key wins
    notices: tuple[NoticeRequest, ...] = ()  # sent after the measure (expiry is told after it)

    def then(self, later: "Effects") -> "Effects":
        """These effects followed by `later` ones."""
        return Effects(
            facts=self.facts + later.facts,
            measure=later.measure or self.measure,
            notices=self.notices + later.notices,
        )


Decision = tuple[CaseState, Effects]
NONE = Effects()


# Heightened monitoring, every case's first measure. Intake applies it as it opens the case
# (domain.first_measure), so it never waits for the case's first turn; the turn repeats it.
OPENING_MEASURE = MeasureRequest(measure=KeyMeasure.MONITOR, reason="case opened")


def on_open(state: CaseState) -> Effects:
    """A new case: record it and put the key under heightened monitoring."""
    return Effects(
        facts=(facts.case_opened(state), facts.stage_changed(state, state.stages[-1])),
        measure=OPENING_MEASURE,
    )


def on_alerts(
    state: CaseState, fresh: list[Alert], repeats: int, policy: LadderPolicy, now: datetime
) -> Decision:
    """New alerts (already stripped of repeats) join the case and may move it on.

    An ended case passes them on to the key's next case instead (`stage_rules.passes_alerts_on`;
    the workflow opens it) and records where they went.
    """
    if stage_rules.passes_alerts_on(state):
        state = stage_rules.record_alerts(state, [], repeats, policy, now)  # repeats still count
        return state, Effects(facts=tuple(facts.alert_passed_on(state, a, now) for a in fresh))
    state = stage_rules.record_alerts(state, fresh, repeats, policy, now)
    effects = Effects(facts=tuple(facts.alert_received(state, a, now) for a in fresh))
    if not fresh:
        return state, effects
    if state.stage is CaseStage.PROBATION:
        return _then(effects, _expire(state, now, "new alert during probation"))
    if stage_rules.should_escalate(state, policy):
        reason = f"{state.alerts.count} alert(s), severity {state.severity.value}"
        return _then(effects, _escalate(state, policy, now, reason))
    if stage_rules.needs_restriction(state, policy):
        return _then(effects, _restrict(state, f"severity rose to {state.severity.value}"))
    return state, effects


def on_kyc(state: CaseState, result: KycResult, policy: LadderPolicy, now: datetime) -> Decision:
    """A re-verification result: probation if passed, expiry if failed, while one is awaited."""
    waiting = state.stage in stage_rules.KYC_PENDING
    state = stage_rules.record_kyc(state, result)
    effects = Effects(facts=(facts.kyc_result(state, state.kyc_results[-1]),))
    if not waiting:
        return state, effects
    if not result.passed:
        return _then(effects, _expire(state, now, "re-verification failed"))
    state = stage_rules.start_probation(state, policy, now)
    state = request_notice(state, NoticeKind.RESTORED.value, NoticeKind.RESTORED, now)
    return state, effects.then(
        Effects(
            facts=(facts.stage_changed(state, state.stages[-1]),),
            measure=MeasureRequest(measure=KeyMeasure.RESTORE, reason="re-verification passed"),
            notices=(NoticeRequest(notice_id=NoticeKind.RESTORED.value, kind=NoticeKind.RESTORED),),
        )
    )


def on_delivery(state: CaseState, event: DeliveryEvent) -> Decision:
    """A provider's delivery report; reports that change nothing are dropped."""
    advanced = apply_delivery(state, event)
    if advanced is None:
        return state, NONE
    return advanced, Effects(facts=(facts.notice_delivery(advanced, event),))


def on_action(
    state: CaseState,
    action: OfficerAction,
    command: OfficerInput,
    policy: LadderPolicy,
    now: datetime,
) -> Decision:
    """An officer's action (already checked with `reject_action`)."""
    state, record = apply_action(state, action, command, now)
    effects = Effects(facts=(facts.officer_action(state, record),))
    actor, reason = record.actor, f"{action.value} by officer: {record.reason}"
    if action is OfficerAction.CONFIRM:
        return _then(effects, _escalate(state, policy, now, reason, actor))
    if action is OfficerAction.DISMISS:
        return _then(effects, _close(state, CaseStage.DISMISSED, now, reason, actor))
    if action is OfficerAction.EXPIRE_NOW:
        return _then(effects, _expire(state, now, reason, actor))
    return state, effects


def on_time(state: CaseState, now: datetime) -> Decision:
    """What falls due by `now`: the quiet window, the KYC deadline, probation, reminders."""
    if stage_rules.is_quiet_window_over(state, now):
        return _close(state, CaseStage.CLEARED, now, "quiet monitoring window ended")
    if stage_rules.is_kyc_deadline_passed(state, now):
        return _expire(state, now, "KYC deadline passed without re-verification")
    if stage_rules.is_probation_over(state, now):
        return _close(state, CaseStage.RESTORED, now, "probation ended without a new alert")
    effects = NONE
    while (reminder := stage_rules.next_reminder(state)) and reminder.at <= now:
        state = request_notice(
            state, reminder.notice_id, NoticeKind.KYC_REMINDER, now, state.kyc_deadline
        )
        notice = NoticeRequest(
            notice_id=reminder.notice_id, kind=NoticeKind.KYC_REMINDER, deadline=state.kyc_deadline
        )
        effects = effects.then(Effects(notices=(notice,)))
    return state, effects


def on_sent(
    state: CaseState,
    notice_id: str,
    outcomes: list[ChannelOutcome],
    error: str | None,
    now: datetime,
) -> Decision:
    """A notice's send finished: keep the outcome; a sent warning starts the KYC wait.

    The send recorded its outcome in the audit log itself; only a send that gave up
    leaves that to the case.
    """
    state = complete_notice(state, notice_id, outcomes, now, error)
    notice = state.notice(notice_id)
    gave_up = (facts.notice_given_up(state, notice),) if notice and error else ()
    effects = Effects(facts=gave_up)
    if notice_id == NoticeKind.WARNING.value and state.stage is CaseStage.WARNED:
        state = stage_rules.change_stage(state, CaseStage.AWAITING_KYC, now, "warning sent")
        effects = effects.then(Effects(facts=(facts.stage_changed(state, state.stages[-1]),)))
    return state, effects


def on_measure(state: CaseState, result: KeyStateResult) -> CaseState:
    """Keep what the registry says about the key after a measure."""
    return state.model_copy(
        update={"key_status": result.status, "key_gateway_reason": result.gateway_reason}
    )


def _escalate(
    state: CaseState, policy: LadderPolicy, now: datetime, reason: str, actor: str = "keycase"
) -> Decision:
    state = stage_rules.start_warning(state, policy, now, reason, actor)
    effects = Effects(facts=(facts.stage_changed(state, state.stages[-1]),))
    if stage_rules.needs_restriction(state, policy):
        state, restriction = _restrict(
            state, f"severity {state.severity.value} restricts on warning"
        )
        effects = effects.then(restriction)
    state = request_notice(
        state, NoticeKind.WARNING.value, NoticeKind.WARNING, now, state.kyc_deadline
    )
    warning = NoticeRequest(
        notice_id=NoticeKind.WARNING.value, kind=NoticeKind.WARNING, deadline=state.kyc_deadline
    )
    return state, effects.then(Effects(notices=(warning,)))


def _restrict(state: CaseState, reason: str) -> Decision:
    state = state.model_copy(update={"restricted": True})
    return state, Effects(measure=MeasureRequest(measure=KeyMeasure.RESTRICT, reason=reason))


def _expire(state: CaseState, now: datetime, reason: str, actor: str = "keycase") -> Decision:
    state = stage_rules.change_stage(state, CaseStage.EXPIRED, now, reason, actor)
    state = request_notice(state, NoticeKind.EXPIRY.value, NoticeKind.EXPIRY, now)
    return state, Effects(
        facts=(facts.stage_changed(state, state.stages[-1]), facts.case_closed(state)),
        measure=MeasureRequest(measure=KeyMeasure.EXPIRE, reason=reason, actor=actor),
        notices=(NoticeRequest(notice_id=NoticeKind.EXPIRY.value, kind=NoticeKind.EXPIRY),),
    )


def _close(
    state: CaseState, stage: CaseStage, now: datetime, reason: str, actor: str = "keycase"
) -> Decision:
    state = stage_rules.change_stage(state, stage, now, reason, actor)
    effects = Effects(
        facts=(facts.stage_changed(state, state.stages[-1]), facts.case_closed(state))
    )
    if stage in (CaseStage.CLEARED, CaseStage.DISMISSED):
        effects = effects.then(
            Effects(measure=MeasureRequest(measure=KeyMeasure.UNFLAG, reason=reason, actor=actor))
        )
    return state, effects


def _then(effects: Effects, decision: Decision) -> Decision:
    state, later = decision
    return state, effects.then(later)
