"""KeyCaseWorkflow: one durable case per suspicious API key, up the DAXA stage_rules.

Handlers only queue what arrives; one loop decides (pure rules in `domain.case_reactions`)
and then acts (store writes as local activities, notices as activities, search
attributes). Nothing interleaves, so no lock is needed, and a whole batch of messages
costs one workflow task and one store write.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import case_reactions, stage_rules
    from domain.actions import reject_action
    from domain.activity_io import StoreRefusal
    from domain.alerts import Alert
    from domain.carry import MAX_PACKED_CHARS, pack_alerts, unpack_alerts
    from domain.case import CaseState, KeyCaseInput, QueryName
    from domain.ids import WORKFLOW_TYPE, case_id_for
    from domain.messages import DeliveryEvent, KycResult, SignalName
    from domain.officer import OfficerActionResult
    from domain.policy import LadderPolicy
    from domain.rings.ring import RingMembership
    from domain.stages import CaseStage

from workflows import case_effects, visibility
from workflows.alarm import TIMERS_RUN_OUT, Alarm
from workflows.officer_desk import OfficerCommand, OfficerDesk

SEEN_ALERT_IDS = 2000  # repeats older than this many alerts are caught by the audit log
RUN_EVENT_BUDGET = 2000  # continue as new well before the server's 10K warning
LAST_TURN_WAIT = timedelta(milliseconds=50)  # see KeyCaseWorkflow._last_turn
# The workflow.patched id of this release's changes to commands (never reused; see the
# README on changing the workflow): continuing as new in a turn of its own, retrying a
# notice through the other channel, OWNER_UNREACHABLE, recording the store's refusals.
RELEASE_2026_12 = "2026-12-own-turn-owner-reach-store-refusals"
# Cases learn the ring their key belongs to (the `ring` signal): RingId and the details show it.
RING_MEMBERSHIP = "ring-membership"
# Dismiss and expire now on a case the policy's [four_eyes] table names wait for a second
# officer (domain.four_eyes). Runs that began before it keep one-officer rules.
FOUR_EYES = "four-eyes"
# Every patch a run asks at its start, in order: each is a marker and a search attribute
# upsert in every case's history (bench.same_shape issues as many, to compare like for like).
STARTING_PATCHES = (RELEASE_2026_12, RING_MEMBERSHIP, FOUR_EYES)

_T = TypeVar("_T")


@workflow.defn(name=WORKFLOW_TYPE)
class KeyCaseWorkflow(OfficerDesk):
    """Carries one key's case from the first alert to its ending."""

    @workflow.init
    def __init__(self, start: KeyCaseInput) -> None:
        self._state: CaseState | None = start.carried_state
        self._policy: LadderPolicy | None = start.carried_policy
        self._seen: deque[str] = deque(start.carried_alert_ids, maxlen=SEEN_ALERT_IDS)
        self._seen_set = set(self._seen)
        self._alerts: list[Alert] = [*start.carried_alerts, *unpack_alerts(start.carried_undecided)]
        self._next_case: list[Alert] = []  # alerts that came after the case ended
        self._kyc: list[KycResult] = []
        self._deliveries: list[DeliveryEvent] = []
        self._rings: list[RingMembership] = []
        self._answered: list[OfficerCommand] = []
        OfficerDesk.__init__(self)
        self._sending: dict[str, asyncio.Task[case_effects.Sent]] = {}
        self._effects = case_reactions.NONE
        self._ran_local_activity = False  # in the turn just taken
        self._turn_timer: asyncio.Task[None] | None = None  # gives continue-as-new its own turn
        self._new_rules = True  # False in runs that began on an older release (see run)
        self._ring_rules = True  # False in runs that began before rings (see run)
        self._four_eyes = True  # likewise, for the four-eyes release
        self._received = 0  # signals so far, to tell a fresh turn from this one
        self._alarm = Alarm()
        # A continued run inherits the search attributes the last run set.
        self._showcase = visibility.Showcase(self._state)

    @workflow.run
    async def run(self, start: KeyCaseInput) -> CaseState:
        """Run the case until it ends (or hand it on to a new run when history grows)."""
        # Asked once, before any local activity: in a turn whose local activity a query
        # split, a later `patched` call replays in another turn than it ran in.
        self._new_rules = workflow.patched(RELEASE_2026_12)
        self._ring_rules = workflow.patched(RING_MEMBERSHIP)
        self._four_eyes = workflow.patched(FOUR_EYES)
        state, policy = await self._open(start)
        while True:
            state = self._decide(state, policy)
            state = await self._act(state)
            ended = not state.stage.is_open and not self._sending
            grown = self._should_continue_as_new(state)
            if (ended or (grown and not self._new_rules)) and not self._pending():
                await self._last_turn(ended)
                if self._pending():
                    continue  # messages came meanwhile: decide on them first
                if not ended:
                    self._continue_as_new(start, state, policy)  # as older releases did
                if self._next_case:
                    self._open_next_case(start)
                return state
            if grown and self._new_rules:
                await self._hand_over(start, state, policy)
                continue  # it could not yet: decide on what came meanwhile
            wakeup = stage_rules.next_wakeup(state, while_warned=not self._new_rules)
            self._alarm.set(wakeup, _alarm_summary(state))
            await workflow.wait_condition(self._woken)

    async def _last_turn(self, ended: bool) -> None:
        """Let handlers finish; an ended case then takes a turn that runs no local activity.

        A run must not end (complete or continue as new) in a turn that ran a local
        activity. A query that arrives while one runs makes the SDK close that turn early
        and finish it in the next; should an alert come before the run ends, the replay
        that follows ends the run before it delivers the signal, and the alert is lost
        (seen with temporalio 1.35). A short timer gives the ending a turn of its own, in
        which a late signal is always seen. Continuing as new: see `_hand_over`.
        """
        await workflow.wait_condition(workflow.all_handlers_finished)
        if ended and self._ran_local_activity and not self._pending():
            if workflow.patched(TIMERS_RUN_OUT):
                # Never cancelled: a message may win just as the timer fires (see Alarm).
                timer = asyncio.create_task(workflow.sleep(LAST_TURN_WAIT, summary="last turn"))
                await workflow.wait_condition(lambda: self._pending() or timer.done())
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(
                    self._pending, timeout=LAST_TURN_WAIT, timeout_summary="last turn"
                )

    async def _hand_over(self, start: KeyCaseInput, state: CaseState, policy: LadderPolicy) -> None:
        """Continue as new in a turn that ran no local activity (see `_last_turn`).

        Alerts that arrive meanwhile are not decided here, which would run a local
        activity again: the next run takes them over, so that a stream with no gap does
        not keep this run growing. Returns only when it could not hand over yet (another
        message to decide first, or too many alerts to carry).
        """
        if self._pending_but_alerts():
            return
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._ran_local_activity:
            # Left to fire, never cancelled: one timer serves every turn until a hand-over
            # (a cancel racing its firing is also refused by the time-skipping test server).
            if self._turn_timer is None or self._turn_timer.done():
                self._turn_timer = asyncio.create_task(
                    workflow.sleep(LAST_TURN_WAIT, summary="own turn to continue as new")
                )
            timer, received = self._turn_timer, self._received
            await workflow.wait_condition(
                lambda: self._received != received or self._pending_but_alerts() or timer.done()
            )
        if self._pending_but_alerts():
            return
        carried = pack_alerts(self._alerts)
        if len(carried) <= MAX_PACKED_CHARS:
            self._continue_as_new(start, state, policy, carried)

    async def _open(self, start: KeyCaseInput) -> tuple[CaseState, LadderPolicy]:
        if self._state is not None and self._policy is not None:
            return self._state, self._policy  # carried over by continue-as-new
        case_id = case_id_for(start.key_id, workflow.info().run_id)
        policy = await case_effects.load_policy(case_id, start.exchange)
        state = stage_rules.open_case(
            case_id, start.key_id, start.account_id, start.exchange, policy, workflow.now()
        )
        self._state, self._policy = state, policy
        self._effects = case_reactions.on_open(state)
        return state, policy

    def _decide(self, state: CaseState, policy: LadderPolicy) -> CaseState:
        """Apply everything that arrived or fell due since the last turn (no awaits)."""
        now = workflow.now()
        for notice_id, task in list(self._sending.items()):
            if task.done():
                del self._sending[notice_id]
                outcomes, error = task.result()
                state = self._adopt(
                    case_reactions.on_sent(state, notice_id, outcomes, error, now, self._new_rules)
                )
        if self._alerts:
            fresh, repeats = stage_rules.fresh_alerts(_take(self._alerts), self._seen_set)
            self._remember(a.alert_id for a in fresh)
            if stage_rules.passes_alerts_on(state):
                self._next_case.extend(fresh)
            state = self._adopt(case_reactions.on_alerts(state, fresh, repeats, policy, now))
        for result in _take(self._kyc):
            state = self._adopt(case_reactions.on_kyc(state, result, policy, now))
        for event in _take(self._deliveries):
            state = self._adopt(case_reactions.on_delivery(state, event, now, self._new_rules))
        for command in _take(self._commands):
            state = self._decide_command(state, policy, command, now)
        for membership in _take(self._rings):
            if self._ring_rules:  # older runs take no notice: their commands stay as recorded
                update = {"ring_id": membership.ring_id, "ring_size": membership.size}
                state = state.model_copy(update=update)
        state = self._adopt(case_reactions.on_time(state, now, self._new_rules))
        self._state = state
        return state

    def _adopt(self, decision: case_reactions.Decision) -> CaseState:
        state, effects = decision
        self._effects = self._effects.then(effects)
        return state

    def _decide_command(
        self, state: CaseState, policy: LadderPolicy, command: OfficerCommand, now: datetime
    ) -> CaseState:
        self._answered.append(command)
        # Checked again: an earlier message in this batch may have changed the case.
        command.error = reject_action(state, command.action, command.command, now)
        if command.error:
            return state
        state = self._adopt(
            case_reactions.on_action(
                state, command.action, command.command, policy, now, self._four_eyes
            )
        )
        command.result = OfficerActionResult(
            case_id=state.case_id,
            action=command.action,
            seq=state.action_count,
            stage=state.stage,
            kyc_deadline=state.kyc_deadline,
            assigned_to=state.assigned_to,
            pending_approval=state.pending_approval,
        )
        return state

    async def _act(self, state: CaseState) -> CaseState:
        """Run the effects the last decisions asked for, then show the case."""
        effects, self._effects = self._effects, case_reactions.NONE
        facts = list(effects.facts)
        self._ran_local_activity = bool(facts) or effects.measure is not None
        refused: list[StoreRefusal] = []
        if effects.measure is not None:
            state, refused = await case_effects.apply_measure(state, effects.measure, facts)
            self._state = state
        elif facts:
            refused = await case_effects.record_facts(facts)
        if refused:
            # Not behind the release's patch: no recorded run gets here, a refusal failed it.
            state, noted = case_reactions.on_refused(state, refused, workflow.now())
            self._state = state
            if await case_effects.record_facts(list(noted.facts)):
                workflow.logger.error("the store refused the record of its refusals too")
        for notice in effects.notices:
            task = asyncio.create_task(case_effects.send(state, notice))
            self._sending[notice.notice_id] = task
        for command in _take(self._answered):
            command.done = True
        self._showcase.show(state)
        return state

    def _should_continue_as_new(self, state: CaseState) -> bool:
        info = workflow.info()
        big = info.is_continue_as_new_suggested() or (
            info.get_current_history_length() >= RUN_EVENT_BUDGET
        )
        return big and state.stage.is_open and not self._sending

    def _continue_as_new(
        self, start: KeyCaseInput, state: CaseState, policy: LadderPolicy, undecided: str = ""
    ) -> None:
        workflow.continue_as_new(
            KeyCaseInput(
                key_id=start.key_id,
                account_id=start.account_id,
                exchange=start.exchange,
                carried_state=state.model_copy(update={"runs": state.runs + 1}),
                carried_policy=policy,
                carried_alert_ids=list(self._seen),
                carried_undecided=undecided,
            )
        )

    def _open_next_case(self, start: KeyCaseInput) -> None:
        """Alerts that reached the case after it ended open the key's next case.

        Until its run ends the workflow id is taken, so these alerts were signalled to
        this run; a new run (a new case id) takes them over.
        """
        passed_on = {alert.alert_id for alert in self._next_case}
        workflow.continue_as_new(
            KeyCaseInput(
                key_id=start.key_id,
                account_id=start.account_id,
                exchange=start.exchange,
                carried_alert_ids=[i for i in self._seen if i not in passed_on],
                carried_alerts=self._next_case,
            ),
            search_attributes=visibility.next_case(start.key_id, start.exchange),
        )

    def _pending_but_alerts(self) -> bool:
        return bool(self._kyc or self._deliveries or self._commands or self._rings)

    def _pending(self) -> bool:
        return bool(self._alerts or self._pending_but_alerts())

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
        self._received += 1

    @workflow.signal(name=SignalName.KYC_RESULT)
    def kyc_result(self, result: KycResult) -> None:
        """The owner's re-verification result."""
        self._kyc.append(result)
        self._received += 1

    @workflow.signal(name=SignalName.DELIVERY_EVENT)
    def delivery_event(self, event: DeliveryEvent) -> None:
        """A provider's delivery report for one notice channel."""
        self._deliveries.append(event)
        self._received += 1

    @workflow.signal(name=SignalName.RING)
    def ring(self, membership: RingMembership) -> None:
        """The ring this key belongs to now (a ring's workflow tells it)."""
        self._rings.append(membership)
        self._received += 1

    @workflow.query(name=QueryName.CASE)
    def case(self) -> CaseState:
        """The whole current state of the case."""
        if self._state is None:
            raise ApplicationError("the case is still opening")
        return self._state


def _take(items: list[_T]) -> list[_T]:
    taken = items[:]
    items.clear()
    return taken


def _alarm_summary(state: CaseState) -> str:
    pending = state.pending_approval
    if pending and pending.lapses_at == stage_rules.next_wakeup(state):
        return f"{pending.action.value} request lapses"
    if state.stage is CaseStage.MONITORING:
        return "monitoring window ends"
    if state.stage is CaseStage.PROBATION:
        return "probation ends"
    reminder = stage_rules.next_reminder(state)
    if reminder and state.kyc_deadline and reminder.at < state.kyc_deadline:
        return f"KYC reminder {reminder.notice_id}"
    return "KYC deadline"
