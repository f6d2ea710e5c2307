"""What a case does in reply to each thing that happens to it: a new case and its effects.

Each `on_*` function takes the case, what happened and the time, and returns the changed
case with the `Effects` it asks for (audit facts, at most one key measure, notices).
The workflow runs the effects; nothing here does I/O or reads a clock.
"""

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain import audit_events as facts
from domain import four_eyes, reach, stage_rules
from domain.actions import apply_action
from domain.activity_io import AuditFact, ChannelOutcome, KeyMeasure, KeyStateResult, StoreRefusal
from domain.alerts import Alert
from domain.case import CaseState
from domain.messages import DeliveryEvent, KycResult
from domain.notice_log import apply_delivery, complete_notice, request_notice
from domain.notices import Channel, ExpiryReason, NoticeKind
from domain.officer import OFFICER_INPUTS, OfficerAction, OfficerInput
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
    deadline: datetime | None = None  # of the KYC; of probation, for `restored` and its expiry
    channels: tuple[Channel, ...] = tuple(Channel)  # a retry goes through one
    expiry_reason: ExpiryReason | None = None
    officer_reason: str | None = None


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
MAX_REFUSALS_KEPT = 20  # the audit log's store.refused rows keep them all


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
        expiry = _expire(state, now, "new alert during probation", ExpiryReason.ALERT_IN_PROBATION)
        return _then(effects, expiry)
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
        return _then(
            effects, _expire(state, now, "re-verification failed", ExpiryReason.KYC_FAILED)
        )
    state = stage_rules.start_probation(state, policy, now)
    until = state.probation_until  # the owner is told when probation ends
    state = request_notice(state, NoticeKind.RESTORED.value, NoticeKind.RESTORED, now, until)
    restored = NoticeRequest(
        notice_id=NoticeKind.RESTORED.value, kind=NoticeKind.RESTORED, deadline=until
    )
    return state, effects.then(
        Effects(
            facts=(facts.stage_changed(state, state.stages[-1]),),
            measure=MeasureRequest(measure=KeyMeasure.RESTORE, reason="re-verification passed"),
            notices=(restored,),
        )
    )


def on_delivery(
    state: CaseState, event: DeliveryEvent, now: datetime, reach_rules: bool = True
) -> Decision:
    """A provider's delivery report; reports that change nothing are dropped.

    A bounce or an undelivered report may leave the notice reaching nobody: see `_follow_reach`.
    """
    advanced = apply_delivery(state, event)
    if advanced is None:
        return state, NONE
    effects = Effects(facts=(facts.notice_delivery(advanced, event),))
    if not reach_rules:
        return advanced, effects
    return _then(effects, _follow_reach(advanced, event.notice_id, now, reach_rules))


def on_action(
    state: CaseState,
    action: OfficerAction,
    command: OfficerInput,
    policy: LadderPolicy,
    now: datetime,
    four_eyes_rules: bool = False,
) -> Decision:
    """An officer's action (already checked with `reject_action`).

    With four-eyes rules (runs of releases that have them) a dismiss or expire_now on a
    case the policy names waits for a second officer instead (`domain.four_eyes`).
    """
    if action in (OfficerAction.APPROVE, OfficerAction.REJECT_PENDING):
        return _decide_pending(state, action is OfficerAction.APPROVE, command, policy, now)
    if four_eyes_rules and four_eyes.needs_second_officer(state, action, policy):
        state = four_eyes.request(state, action, command, policy, now)
        if state.pending_approval is None:
            return state, NONE
        return state, Effects(facts=(facts.approval_requested(state, state.pending_approval),))
    return _apply(state, action, command, policy, now)


def _decide_pending(
    state: CaseState, approved: bool, command: OfficerInput, policy: LadderPolicy, now: datetime
) -> Decision:
    """A second officer's verdict on the pending action: apply it as asked, or drop it."""
    pending = state.pending_approval
    if pending is None:
        return state, NONE
    state = four_eyes.settle(state)
    reason = command.reason.strip()
    decided = Effects(
        facts=(facts.approval_decided(state, pending, approved, command.actor, reason, now),)
    )
    if not approved:
        return state, decided
    asked = OFFICER_INPUTS[pending.action](actor=pending.requested_by, reason=pending.reason)
    return _then(decided, _apply(state, pending.action, asked, policy, now, command.actor))


def _apply(
    state: CaseState,
    action: OfficerAction,
    command: OfficerInput,
    policy: LadderPolicy,
    now: datetime,
    approved_by: str | None = None,
) -> Decision:
    state, record = apply_action(state, action, command, now, approved_by)
    effects = Effects(facts=(facts.officer_action(state, record),))
    actor, reason = record.actor, f"{action.value} by officer: {record.reason}"
    if approved_by:
        reason += f" (approved by {approved_by})"
    if action is OfficerAction.CONFIRM:
        return _then(effects, _escalate(state, policy, now, reason, actor))
    if action is OfficerAction.DISMISS:
        return _then(effects, _close(state, CaseStage.DISMISSED, now, reason, actor))
    if action is OfficerAction.EXPIRE_NOW:
        expiry = _expire(state, now, reason, ExpiryReason.OFFICER, actor, record.reason)
        return _then(effects, expiry)
    return state, effects


def on_time(state: CaseState, now: datetime, reach_rules: bool = True) -> Decision:
    """What falls due by `now`: the quiet window, the KYC deadline, probation, reminders,
    and the end of a request for a second officer (its window, or the case's ending).

    The deadline runs only once a provider accepted the warning (AWAITING_KYC); cases of
    older releases (`reach_rules=False`) also let it pass while the warning is in flight.
    """
    return _then_decide(_ladder_time(state, now, reach_rules), lambda s: _lapse(s, now))


def _lapse(state: CaseState, now: datetime) -> Decision:
    pending, why = state.pending_approval, four_eyes.lapse_reason(state, now)
    if pending is None or why is None:
        return state, NONE
    state = four_eyes.settle(state)
    return state, Effects(facts=(facts.approval_lapsed(state, pending, why, now),))


def _ladder_time(state: CaseState, now: datetime, reach_rules: bool) -> Decision:
    if stage_rules.is_quiet_window_over(state, now):
        return _close(state, CaseStage.CLEARED, now, "quiet monitoring window ended")
    if stage_rules.is_kyc_deadline_passed(state, now, while_warned=not reach_rules):
        reason = "KYC deadline passed without re-verification"
        return _expire(state, now, reason, ExpiryReason.DEADLINE_PASSED)
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
    reach_rules: bool = True,
) -> Decision:
    """A notice's send finished: keep the outcome, and follow what reached the owner.

    The send recorded its outcome in the audit log itself; only a send that gave up
    leaves that to the case.
    """
    state = complete_notice(state, notice_id, outcomes, now, error)
    notice = state.notice(notice_id)
    gave_up = (facts.notice_given_up(state, notice),) if notice and error else ()
    return _then(Effects(facts=gave_up), _follow_reach(state, notice_id, now, reach_rules))


def _follow_reach(state: CaseState, notice_id: str, now: datetime, reach_rules: bool) -> Decision:
    """Retry a notice that a channel failed, and move the case on what the warning reached.

    A warning that a provider accepted starts the KYC wait; one that reached nobody, with
    no retry left, leaves the case OWNER_UNREACHABLE until an officer decides. Cases of
    older releases (`reach_rules=False`) waited for KYC after any warning, as they did.
    """
    root = reach.root_of(state, notice_id)
    if root is None:
        return state, NONE
    state = reach.note_reach(state, root.notice_id)
    root = state.notice(root.notice_id) or root
    warning = root.notice_id == NoticeKind.WARNING.value
    if not reach_rules:
        if warning and state.stage is CaseStage.WARNED:
            return _change(state, CaseStage.AWAITING_KYC, now, "warning sent")
        return state, NONE
    effects = NONE
    for channel in reach.retries_due(state, root):
        retry = reach.retry_id(root.notice_id, channel)
        why, officer = root.expiry_reason, root.officer_reason
        state = request_notice(
            state, retry, root.kind, now, root.deadline, root.notice_id, channel, why, officer
        )
        request = NoticeRequest(
            notice_id=retry,
            kind=root.kind,
            deadline=root.deadline,
            channels=(channel,),
            expiry_reason=why,
            officer_reason=officer,
        )
        effects = effects.then(Effects(notices=(request,)))
    if not warning or state.stage not in stage_rules.KYC_PENDING:
        return state, effects
    if root.reached_by and state.stage is CaseStage.WARNED:
        by = " and ".join(c.value for c in root.reached_by)
        return _then(effects, _change(state, CaseStage.AWAITING_KYC, now, f"warning sent by {by}"))
    if not root.reached_by and reach.is_settled(state, root):
        reason = "no channel reached the owner; an officer decides"
        return _then(effects, _change(state, CaseStage.OWNER_UNREACHABLE, now, reason))
    return state, effects


def _change(state: CaseState, stage: CaseStage, now: datetime, reason: str) -> Decision:
    state = stage_rules.change_stage(state, stage, now, reason)
    return state, Effects(facts=(facts.stage_changed(state, state.stages[-1]),))


def on_refused(state: CaseState, refusals: list[StoreRefusal], now: datetime) -> Decision:
    """The store refused facts: the case keeps the refusals, records that, and goes on."""
    count = state.store_refusal_count + len(refusals)
    kept = [*state.store_refusals, *refusals][-MAX_REFUSALS_KEPT:]
    state = state.model_copy(update={"store_refusals": kept, "store_refusal_count": count})
    return state, Effects(facts=(facts.store_refused(state, refusals, now),))


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


def _expire(
    state: CaseState,
    now: datetime,
    reason: str,
    why: ExpiryReason,
    actor: str = "keycase",
    officer_reason: str | None = None,
) -> Decision:
    """Expire the key and tell the owner why, with the date that applies to the reason."""
    dated = {
        ExpiryReason.DEADLINE_PASSED: state.kyc_deadline,
        ExpiryReason.ALERT_IN_PROBATION: state.probation_until,
    }.get(why)
    state = stage_rules.change_stage(state, CaseStage.EXPIRED, now, reason, actor)
    state = request_notice(
        state,
        NoticeKind.EXPIRY.value,
        NoticeKind.EXPIRY,
        now,
        dated,
        expiry_reason=why,
        officer_reason=officer_reason,
    )
    notice = NoticeRequest(
        notice_id=NoticeKind.EXPIRY.value,
        kind=NoticeKind.EXPIRY,
        deadline=dated,
        expiry_reason=why,
        officer_reason=officer_reason,
    )
    return state, Effects(
        facts=(facts.stage_changed(state, state.stages[-1]), facts.case_closed(state)),
        measure=MeasureRequest(measure=KeyMeasure.EXPIRE, reason=reason, actor=actor),
        notices=(notice,),
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


def _then_decide(first: Decision, next_step: Callable[[CaseState], Decision]) -> Decision:
    state, effects = first
    return _then(effects, next_step(state))


def _then(effects: Effects, decision: Decision) -> Decision:
    state, later = decision
    return state, effects.then(later)
