"""The ladder's rules: pure functions from a case, the policy and the time to a new case.

No clock and no I/O: the workflow passes `now` (its deterministic time) in, so the same
rules run in the workflow, in tests and anywhere else.
"""

from collections.abc import Collection, Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain.alerts import Alert, Severity
from domain.case import RECENT_ALERT_IDS, AlertDigest, CaseState, KycRecord, StageChange
from domain.messages import KycResult
from domain.notices import NoticeKind
from domain.policy import LadderPolicy, format_iso_duration
from domain.stages import CaseStage

KYC_PENDING = frozenset({CaseStage.WARNED, CaseStage.AWAITING_KYC})


def open_case(
    case_id: str, key_id: str, account_id: str, exchange: str, policy: LadderPolicy, now: datetime
) -> CaseState:
    """A new case in MONITORING, pinned to `policy`."""
    state = CaseState(
        case_id=case_id,
        key_id=key_id,
        account_id=account_id,
        exchange=exchange,
        policy_version=policy.version,
        policy_exchange=policy.applies_to,
        opened_at=now,
        stages=[StageChange(stage=CaseStage.MONITORING, at=now, reason="case opened")],
    )
    return state.model_copy(update={"monitoring_until": monitoring_until(state, policy)})


def fresh_alerts(alerts: Iterable[Alert], seen: Collection[str]) -> tuple[list[Alert], int]:
    """The alerts whose ids the case has not seen yet (in order), and how many repeated."""
    fresh: list[Alert] = []
    ids: set[str] = set()
    repeats = 0
    for alert in alerts:
        if alert.alert_id in seen or alert.alert_id in ids:
            repeats += 1
            continue
        ids.add(alert.alert_id)
        fresh.append(alert)
    return fresh, repeats


def passes_alerts_on(state: CaseState) -> bool:
    """Whether new alerts about the key open its next case rather than join this one.

    So it is once the case has ended, unless it expired the key: nothing more can happen
    to an expired key, so alerts about it stay on the case that expired it.
    """
    return not state.stage.is_open and state.stage is not CaseStage.EXPIRED


def record_alerts(
    state: CaseState, alerts: list[Alert], repeats: int, policy: LadderPolicy, now: datetime
) -> CaseState:
    """Aggregate new alerts into the case: counts, kinds, highest severity, quiet window."""
    digest = state.alerts
    if not alerts:
        return state.model_copy(
            update={"alerts": digest.model_copy(update={"duplicates": digest.duplicates + repeats})}
        )
    kinds = dict(digest.kinds)
    for alert in alerts:
        kinds[alert.kind] = kinds.get(alert.kind, 0) + 1
    severities = [a.severity for a in alerts]
    if digest.highest_severity is not None:
        severities.append(digest.highest_severity)
    top = highest(severities)
    digest = AlertDigest(
        count=digest.count + len(alerts),
        duplicates=digest.duplicates + repeats,
        kinds=kinds,
        highest_severity=top,
        first_received_at=digest.first_received_at or now,
        last_received_at=now,
        recent_ids=(digest.recent_ids + [a.alert_id for a in alerts])[-RECENT_ALERT_IDS:],
    )
    severity = highest([state.severity, top])
    state = state.model_copy(update={"alerts": digest, "severity": severity})
    if state.stage is CaseStage.MONITORING:
        state = state.model_copy(update={"monitoring_until": monitoring_until(state, policy)})
    return state


def monitoring_until(state: CaseState, policy: LadderPolicy) -> datetime:
    """A monitored case clears after a quiet window (by its severity) since the last alert."""
    since = state.alerts.last_received_at or state.opened_at
    return since + policy.for_severity(state.severity).monitoring_window


def should_escalate(state: CaseState, policy: LadderPolicy) -> bool:
    """Enough alerts for the case's severity: warn the owner."""
    needed = policy.for_severity(state.severity).escalate_after_alerts
    return state.stage is CaseStage.MONITORING and state.alerts.count >= needed


def change_stage(
    state: CaseState, stage: CaseStage, now: datetime, reason: str, actor: str = "keycase"
) -> CaseState:
    """Move the case to `stage`; an ending closes it."""
    change = StageChange(stage=stage, at=now, reason=reason, actor=actor)
    update: dict[str, object] = {"stage": stage, "stages": [*state.stages, change]}
    if not stage.is_open:
        update["closed_at"] = now
    return state.model_copy(update=update)


def start_warning(
    state: CaseState, policy: LadderPolicy, now: datetime, reason: str, actor: str = "keycase"
) -> CaseState:
    """WARNED: the warning (which asks for re-verification) goes out with its deadline."""
    rules = policy.for_severity(state.severity)
    state = change_stage(state, CaseStage.WARNED, now, reason, actor)
    return state.model_copy(
        update={
            "monitoring_until": None,
            "kyc_requested_at": now,
            "kyc_deadline": now + rules.kyc_deadline,
            "kyc_deadline_max": now + rules.kyc_deadline_max,
            "kyc_deadline_revised_at": now,
            "kyc_reminders_before": sorted(rules.kyc_reminders_before, reverse=True),
        }
    )


def needs_restriction(state: CaseState, policy: LadderPolicy) -> bool:
    """A warned case of a severity that restricts on warning, whose key is not restricted yet."""
    restrict = policy.for_severity(state.severity).restrict_on_warning
    return restrict and state.stage in KYC_PENDING and not state.restricted


def start_probation(state: CaseState, policy: LadderPolicy, now: datetime) -> CaseState:
    """PROBATION after a passed re-verification: the key is back, whitelisted IPs only."""
    state = change_stage(state, CaseStage.PROBATION, now, "re-verification passed")
    until = now + policy.for_severity(state.severity).probation
    return state.model_copy(update={"probation_until": until})


def record_kyc(state: CaseState, result: KycResult) -> CaseState:
    """Keep a received re-verification result with the stage it arrived in."""
    record = KycRecord(
        passed=result.passed,
        reference=result.reference,
        actor=result.actor,
        received_at=result.received_at,
        stage=state.stage,
    )
    return state.model_copy(update={"kyc_results": [*state.kyc_results, record][-20:]})


class Reminder(BaseModel):
    """A reminder due before the KYC deadline."""

    model_config = ConfigDict(frozen=True)

    notice_id: str
    at: datetime


def reminders(state: CaseState) -> list[Reminder]:
    """The reminders of the current deadline, earliest first.

    After an extension only the reminders that fall after the extension count, so an
    owner is not sent a burst of overdue reminders.
    """
    if state.kyc_deadline is None or state.kyc_deadline_revised_at is None:
        return []
    return [
        Reminder(
            notice_id=f"{NoticeKind.KYC_REMINDER.value}:{state.kyc_deadline_revision}:{offset_id}",
            at=state.kyc_deadline - offset,
        )
        for offset in state.kyc_reminders_before
        for offset_id in [format_iso_duration(offset)]
        if state.kyc_deadline - offset > state.kyc_deadline_revised_at
    ]


def next_reminder(state: CaseState) -> Reminder | None:
    """The earliest reminder not yet asked for, while the case waits for KYC.

    The warning may still be in flight (WARNED): its reminders are timed from the same
    deadline, so one timer serves both stages.
    """
    if state.stage not in KYC_PENDING:
        return None
    return next((r for r in reminders(state) if state.notice(r.notice_id) is None), None)


def next_wakeup(state: CaseState, while_warned: bool = False) -> datetime | None:
    """When the case must next act on its own, if no message arrives before.

    While the warning is in flight only its reminders are due, not the deadline
    (`while_warned`: as older releases did, the deadline too). A request waiting for a
    second officer lapses at its own time.
    """
    due = _ladder_wakeup(state, while_warned)
    pending = state.pending_approval
    if pending is None:
        return due
    return pending.lapses_at if due is None else min(due, pending.lapses_at)


def _ladder_wakeup(state: CaseState, while_warned: bool) -> datetime | None:
    if state.stage is CaseStage.MONITORING:
        return state.monitoring_until
    if state.stage in KYC_PENDING:
        reminder = next_reminder(state)
        if reminder and state.kyc_deadline and reminder.at < state.kyc_deadline:
            return reminder.at
        if state.stage is CaseStage.WARNED and not while_warned:
            return None
        return state.kyc_deadline
    if state.stage is CaseStage.PROBATION:
        return state.probation_until
    return None


def is_quiet_window_over(state: CaseState, now: datetime) -> bool:
    """A monitored case whose quiet window ended clears."""
    until = state.monitoring_until
    return state.stage is CaseStage.MONITORING and until is not None and now >= until


def is_kyc_deadline_passed(state: CaseState, now: datetime, while_warned: bool = False) -> bool:
    """The owner did not re-verify in time (told: a provider accepted the warning).

    `while_warned`: as older releases did, also while the warning is still in flight.
    """
    deadline = state.kyc_deadline
    stages = KYC_PENDING if while_warned else {CaseStage.AWAITING_KYC}
    return state.stage in stages and deadline is not None and now >= deadline


def is_probation_over(state: CaseState, now: datetime) -> bool:
    """Probation passed without a new alert: the key is restored for good."""
    until = state.probation_until
    return state.stage is CaseStage.PROBATION and until is not None and now >= until


def highest(severities: Iterable[Severity]) -> Severity:
    """The most severe of some severities."""
    return max(severities, key=lambda s: s.rank)
