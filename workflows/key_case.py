"""KeyCaseWorkflow: one durable case per suspicious API key, up the DAXA ladder.

Handlers only queue what arrives; one loop decides (pure rules in `domain.transitions`)
and then acts (store writes as local activities, notices as activities, search
attributes). Nothing interleaves, so no lock is needed, and a whole batch of messages
costs one workflow task and one store write.
"""

import asyncio
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import audit_events, ladder, transitions
    from domain.actions import reject_action
    from domain.alerts import Alert
    from domain.case import CaseState, KeyCaseInput, QueryName
    from domain.effects import ApplyKeyMeasureInput, AuditFact, ChannelOutcome, SendNoticeInput
    from domain.ids import case_id_for
    from domain.messages import DeliveryEvent, KycResult, SignalName
    from domain.officer import (
        AddNoteInput,
        AssignInput,
        ConfirmInput,
        DismissInput,
        ExpireNowInput,
        ExtendKycDeadlineInput,
        OfficerAction,
        OfficerActionResult,
        OfficerInput,
        UpdateName,
    )
    from domain.policy import LadderPolicy
    from domain.stages import CaseStage

from workflows import case_effects, visibility
from workflows.alarm import Alarm

SEEN_ALERT_IDS = 2000  # repeats older than this many alerts are caught by the audit log
RUN_EVENT_BUDGET = 2000  # continue as new well before the server's 10K warning

Sent = tuple[list[ChannelOutcome], str | None]
_T = TypeVar("_T")


@dataclass
class _Command:
    """An officer action waiting for the loop, and its answer."""

    action: OfficerAction
    command: OfficerInput
    result: OfficerActionResult | None = None
    error: str | None = None
    done: bool = False


@workflow.defn(name="KeyCaseWorkflow")
class KeyCaseWorkflow:
    """Carries one key's case from the first alert to its ending."""

    @workflow.init
    def __init__(self, start: KeyCaseInput) -> None:
        self._state: CaseState | None = start.carried_state
        self._policy: LadderPolicy | None = start.carried_policy
        self._seen: deque[str] = deque(start.carried_alert_ids, maxlen=SEEN_ALERT_IDS)
        self._seen_set = set(self._seen)
        self._alerts: list[Alert] = []
        self._kyc: list[KycResult] = []
        self._deliveries: list[DeliveryEvent] = []
        self._commands: list[_Command] = []
        self._answered: list[_Command] = []
        self._sending: dict[str, asyncio.Task[Sent]] = {}
        self._effects = transitions.NONE
        self._alarm = Alarm()
        self._shown = visibility.shown(self._state) if self._state else {}
        self._details = ""

    @workflow.run
    async def run(self, start: KeyCaseInput) -> CaseState:
        """Run the case until it ends (or hand it on to a new run when history grows)."""
        state, policy = await self._open(start)
        while True:
            state = self._decide(state, policy)
            state = await self._act(state)
            if not state.stage.is_open and not self._sending and not self._pending():
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._pending():
                    return state
            elif self._should_continue_as_new(state):
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self._pending():
                    self._continue_as_new(start, state, policy)
            else:
                self._alarm.set(ladder.next_wakeup(state), _alarm_summary(state))
                await workflow.wait_condition(self._woken)

    async def _open(self, start: KeyCaseInput) -> tuple[CaseState, LadderPolicy]:
        if self._state is not None and self._policy is not None:
            return self._state, self._policy  # carried over by continue-as-new
        case_id = case_id_for(start.key_id, workflow.info().first_execution_run_id)
        policy = await case_effects.load_policy(case_id)
        state = ladder.open_case(
            case_id, start.key_id, start.account_id, start.exchange, policy, workflow.now()
        )
        self._state, self._policy = state, policy
        self._effects = transitions.on_open(state)
        return state, policy

    def _decide(self, state: CaseState, policy: LadderPolicy) -> CaseState:
        """Apply everything that arrived or fell due since the last turn (no awaits)."""
        now = workflow.now()
        for notice_id, task in list(self._sending.items()):
            if task.done():
                del self._sending[notice_id]
                outcomes, error = task.result()
                state = self._adopt(transitions.on_sent(state, notice_id, outcomes, error, now))
        if self._alerts:
            fresh, repeats = ladder.fresh_alerts(_take(self._alerts), self._seen_set)
            self._remember(a.alert_id for a in fresh)
            state = self._adopt(transitions.on_alerts(state, fresh, repeats, policy, now))
        for result in _take(self._kyc):
            state = self._adopt(transitions.on_kyc(state, result, policy, now))
        for event in _take(self._deliveries):
            state = self._adopt(transitions.on_delivery(state, event))
        for command in _take(self._commands):
            state = self._decide_command(state, policy, command, now)
        state = self._adopt(transitions.on_time(state, now))
        self._state = state
        return state

    def _adopt(self, decision: transitions.Decision) -> CaseState:
        state, effects = decision
        self._effects = self._effects.then(effects)
        return state

    def _decide_command(
        self, state: CaseState, policy: LadderPolicy, command: _Command, now: datetime
    ) -> CaseState:
        self._answered.append(command)
        # Checked again: an earlier message in this batch may have changed the case.
        command.error = reject_action(state, command.action, command.command, now)
        if command.error:
            return state
        state = self._adopt(
            transitions.on_action(state, command.action, command.command, policy, now)
        )
        command.result = OfficerActionResult(
            case_id=state.case_id,
            action=command.action,
            seq=state.action_count,
            stage=state.stage,
            kyc_deadline=state.kyc_deadline,
            assigned_to=state.assigned_to,
        )
        return state

    async def _act(self, state: CaseState) -> CaseState:
        """Run the effects the last decisions asked for, then show the case."""
        effects, self._effects = self._effects, transitions.NONE
        facts = list(effects.facts)
        if effects.measure is not None:
            state = await self._apply_measure(state, effects.measure, facts)
        elif facts:
            await case_effects.record_facts(facts)
        for notice in effects.notices:
            self._sending[notice.notice_id] = asyncio.create_task(self._send(state, notice))
        for command in _take(self._answered):
            command.done = True
        self._show(state)
        return state

    async def _apply_measure(
        self, state: CaseState, request: transitions.MeasureRequest, facts: list[AuditFact]
    ) -> CaseState:
        measure = request.measure.value
        try:
            result = await case_effects.apply_key_measure(
                ApplyKeyMeasureInput(
                    event_id=f"{state.case_id}:key:{measure}",
                    case_id=state.case_id,
                    key_id=state.key_id,
                    measure=request.measure,
                    actor=request.actor,
                    reason=request.reason[:500],
                    occurred_at=workflow.now(),
                    facts=facts,
                )
            )
        except (ActivityError, ApplicationError) as error:
            # A refused measure (say, a key missing from the registry) must not lose the
            # case: the facts are kept and officers see the failure in the audit log. (A
            # local activity's failure arrives unwrapped, as the ApplicationError itself.)
            cause = str(error.cause or error) if isinstance(error, ActivityError) else str(error)
            workflow.logger.error("key measure %s failed for %s: %s", measure, state.key_id, cause)
            failed = audit_events.key_measure_failed(state, measure, cause, workflow.now())
            await case_effects.record_facts([*facts, failed])
            return state
        state = transitions.on_measure(state, result)
        self._state = state
        return state

    async def _send(self, state: CaseState, notice: transitions.NoticeRequest) -> Sent:
        request = SendNoticeInput(
            notice_id=notice.notice_id,
            case_id=state.case_id,
            key_id=state.key_id,
            account_id=state.account_id,
            exchange=state.exchange,
            notice=notice.kind,
            severity=state.severity,
            detected=list(state.alerts.kinds),
            deadline=notice.deadline,
            occurred_at=workflow.now(),
        )
        try:
            result = await case_effects.send_notice(request)
        except ActivityError as error:
            return [], f"gave up: {error.cause or error}"
        return list(result.outcomes), None

    def _show(self, state: CaseState) -> None:
        shown = visibility.shown(state)
        updates = visibility.changes(self._shown, shown)
        if updates:
            workflow.upsert_search_attributes(updates)
            self._shown = shown
        details = visibility.details(state)
        if details != self._details:
            workflow.set_current_details(details)
            self._details = details

    def _should_continue_as_new(self, state: CaseState) -> bool:
        info = workflow.info()
        big = info.is_continue_as_new_suggested() or (
            info.get_current_history_length() >= RUN_EVENT_BUDGET
        )
        return big and state.stage.is_open and not self._sending

    def _continue_as_new(self, start: KeyCaseInput, state: CaseState, policy: LadderPolicy) -> None:
        workflow.continue_as_new(
            KeyCaseInput(
                key_id=start.key_id,
                account_id=start.account_id,
                exchange=start.exchange,
                carried_state=state.model_copy(update={"runs": state.runs + 1}),
                carried_policy=policy,
                carried_alert_ids=list(self._seen),
            )
        )

    def _pending(self) -> bool:
        return bool(self._alerts or self._kyc or self._deliveries or self._commands)

    def _woken(self) -> bool:
        sent = any(task.done() for task in self._sending.values())
        return self._pending() or sent or self._alarm.rang

    def _remember(self, alert_ids: Iterable[str]) -> None:
        for alert_id in alert_ids:
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(alert_id)
            self._seen_set.add(alert_id)

    # -- messages -------------------------------------------------------------------

    @workflow.signal(name=SignalName.ALERT)
    def alert(self, alert: Alert) -> None:
        """A surveillance alert about this key."""
        self._alerts.append(alert)

    @workflow.signal(name=SignalName.KYC_RESULT)
    def kyc_result(self, result: KycResult) -> None:
        """The owner's re-verification result."""
        self._kyc.append(result)

    @workflow.signal(name=SignalName.DELIVERY_EVENT)
    def delivery_event(self, event: DeliveryEvent) -> None:
        """A provider's delivery report for one notice channel."""
        self._deliveries.append(event)

    @workflow.query(name=QueryName.CASE)
    def case(self) -> CaseState:
        """The whole current state of the case."""
        if self._state is None:
            raise ApplicationError("the case is still opening")
        return self._state

    async def _officer(self, action: OfficerAction, command: OfficerInput) -> OfficerActionResult:
        queued = _Command(action, command)
        self._commands.append(queued)
        await workflow.wait_condition(lambda: queued.done)
        if queued.error or queued.result is None:
            raise ApplicationError(queued.error or "not applied", type="ActionRejected")
        return queued.result

    def _check(self, action: OfficerAction, command: OfficerInput) -> None:
        if self._state is None:
            raise ValueError("the case is still opening; try again in a moment")
        reason = reject_action(self._state, action, command, workflow.now())
        if reason:
            raise ValueError(reason)

    @workflow.update(name=UpdateName.CONFIRM)
    async def confirm(self, command: ConfirmInput) -> OfficerActionResult:
        """Escalate a monitored case to a warning."""
        return await self._officer(OfficerAction.CONFIRM, command)

    @confirm.validator
    def _check_confirm(self, command: ConfirmInput) -> None:
        self._check(OfficerAction.CONFIRM, command)

    @workflow.update(name=UpdateName.DISMISS)
    async def dismiss(self, command: DismissInput) -> OfficerActionResult:
        """Close the case as a false positive."""
        return await self._officer(OfficerAction.DISMISS, command)

    @dismiss.validator
    def _check_dismiss(self, command: DismissInput) -> None:
        self._check(OfficerAction.DISMISS, command)

    @workflow.update(name=UpdateName.EXPIRE_NOW)
    async def expire_now(self, command: ExpireNowInput) -> OfficerActionResult:
        """Expire the key at once."""
        return await self._officer(OfficerAction.EXPIRE_NOW, command)

    @expire_now.validator
    def _check_expire_now(self, command: ExpireNowInput) -> None:
        self._check(OfficerAction.EXPIRE_NOW, command)

    @workflow.update(name=UpdateName.EXTEND_KYC_DEADLINE)
    async def extend_kyc_deadline(self, command: ExtendKycDeadlineInput) -> OfficerActionResult:
        """Move the KYC deadline later."""
        return await self._officer(OfficerAction.EXTEND_KYC_DEADLINE, command)

    @extend_kyc_deadline.validator
    def _check_extend_kyc_deadline(self, command: ExtendKycDeadlineInput) -> None:
        self._check(OfficerAction.EXTEND_KYC_DEADLINE, command)

    @workflow.update(name=UpdateName.ASSIGN)
    async def assign(self, command: AssignInput) -> OfficerActionResult:
        """Give the case to an officer."""
        return await self._officer(OfficerAction.ASSIGN, command)

    @assign.validator
    def _check_assign(self, command: AssignInput) -> None:
        self._check(OfficerAction.ASSIGN, command)

    @workflow.update(name=UpdateName.ADD_NOTE)
    async def add_note(self, command: AddNoteInput) -> OfficerActionResult:
        """Add a note to the case."""
        return await self._officer(OfficerAction.ADD_NOTE, command)

    @add_note.validator
    def _check_add_note(self, command: AddNoteInput) -> None:
        self._check(OfficerAction.ADD_NOTE, command)


def _take(items: list[_T]) -> list[_T]:
    taken = items[:]
    items.clear()
    return taken


def _alarm_summary(state: CaseState) -> str:
    if state.stage is CaseStage.MONITORING:
        return "monitoring window ends"
    if state.stage is CaseStage.PROBATION:
        return "probation ends"
    reminder = ladder.next_reminder(state)
    if reminder and state.kyc_deadline and reminder.at < state.kyc_deadline:
        return f"KYC reminder {reminder.notice_id}"
    return "KYC deadline"
