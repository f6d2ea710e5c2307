"""A policy dry-run: a recorded case replayed through the ladder under another policy.

The replay drives the same pure rules the workflow runs (`stage_rules`, `case_reactions`)
with the case's recorded inputs: its alerts, re-verification results and officer actions,
each at the time it arrived. Time moves from one input to the next as the workflow's timer
would (`next_wakeup`), so deadlines, reminders, quiet windows and probation fall due where
the policy puts them. An officer action the case would now refuse (`reject_action`) and a
KYC result that arrives when none is awaited no longer apply and are counted as such.
Notices are taken as reaching the owner on every channel at once: a dry-run knows nothing
of the providers to come.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain import case_reactions, stage_rules
from domain.actions import reject_action
from domain.activity_io import ChannelOutcome
from domain.alerts import Alert
from domain.case import CaseState
from domain.messages import KycResult
from domain.notices import DeliveryStatus, NoticeKind
from domain.officer import OfficerAction, OfficerInput
from domain.policy import LadderPolicy
from domain.stages import CaseStage

LADDER_ORDER = list(CaseStage)
MAX_WAKEUPS = 10_000  # a replay that keeps waking without moving is a bug, not a long case


@dataclass(frozen=True)
class RecordedInput:
    """One thing that happened to a case, at the time it arrived: exactly one is set."""

    at: datetime
    alert: Alert | None = None
    kyc: KycResult | None = None
    action: OfficerAction | None = None
    command: OfficerInput | None = None


@dataclass(frozen=True)
class CaseHistory:
    """A recorded case: who, where, when it opened, its inputs in order, how it ended."""

    case_id: str
    key_id: str
    account_id: str
    exchange: str
    opened_at: datetime
    inputs: tuple[RecordedInput, ...]
    recorded_stage: CaseStage | None = None  # the ending the store holds; None while open


@dataclass(frozen=True)
class Replay:
    """What the ladder did with a case under one policy, up to the horizon."""

    stage: CaseStage
    steps: dict[CaseStage, datetime]  # when each stage was first reached
    notices: tuple[tuple[datetime, NoticeKind], ...]
    not_applied: int = 0  # recorded actions and KYC results that no longer fit the case

    @property
    def warned(self) -> bool:
        """The owner got a warning."""
        return CaseStage.WARNED in self.steps

    @property
    def outcome(self) -> str:
        """The ending (`expired`, `cleared`, ...) or `open: <stage>`."""
        return self.stage.value.lower() if not self.stage.is_open else f"open: {self.stage.value}"


@dataclass
class _Run:
    state: CaseState
    policy: LadderPolicy
    notices: list[tuple[datetime, NoticeKind]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    not_applied: int = 0

    def adopt(self, decision: case_reactions.Decision, now: datetime) -> None:
        state, effects = decision
        pending = list(effects.notices)
        while pending:  # every notice reaches the owner at once (see the module's note)
            notice = pending.pop(0)
            self.notices.append((now, notice.kind))
            outcomes = [
                ChannelOutcome(
                    channel=channel,
                    status=DeliveryStatus.SENT,
                    outbox_id=f"dry-run:{notice.notice_id}:{channel.value}",
                )
                for channel in notice.channels
            ]
            state, more = case_reactions.on_sent(state, notice.notice_id, outcomes, None, now)
            pending.extend(more.notices)
        self.state = state

    def advance(self, until: datetime) -> None:
        """Let what falls due up to `until` happen, as the workflow's alarm would."""
        for _ in range(MAX_WAKEUPS):
            wake = stage_rules.next_wakeup(self.state)
            if not self.state.stage.is_open or wake is None or wake > until:
                return
            before = self.state
            self.adopt(case_reactions.on_time(self.state, wake), wake)
            if self.state == before:
                return

    def take(self, recorded: RecordedInput) -> None:
        at, state = recorded.at, self.state
        if recorded.alert is not None:
            fresh, repeats = stage_rules.fresh_alerts([recorded.alert], self.seen)
            self.seen.update(a.alert_id for a in fresh)
            if stage_rules.passes_alerts_on(state):
                return  # it would open the key's next case, which has its own history
            self.adopt(case_reactions.on_alerts(state, fresh, repeats, self.policy, at), at)
        elif recorded.kyc is not None:
            if state.stage not in stage_rules.KYC_PENDING:
                self.not_applied += 1
            self.adopt(case_reactions.on_kyc(state, recorded.kyc, self.policy, at), at)
        elif recorded.action is not None and recorded.command is not None:
            if reject_action(state, recorded.action, recorded.command, at) is not None:
                self.not_applied += 1
                return
            decision = case_reactions.on_action(
                state, recorded.action, recorded.command, self.policy, at
            )
            self.adopt(decision, at)


def replay(history: CaseHistory, policy: LadderPolicy, horizon: datetime) -> Replay:
    """The case under `policy` (its exchange's effective one), from its opening to `horizon`."""
    effective = policy.for_exchange(history.exchange)
    state = stage_rules.open_case(
        history.case_id,
        history.key_id,
        history.account_id,
        history.exchange,
        effective,
        history.opened_at,
    )
    run = _Run(state, effective)
    for recorded in sorted(history.inputs, key=lambda r: r.at):
        run.advance(recorded.at)
        run.take(recorded)
    run.advance(horizon)
    steps: dict[CaseStage, datetime] = {}
    for change in run.state.stages:
        steps.setdefault(change.stage, change.at)
    return Replay(run.state.stage, steps, tuple(run.notices), run.not_applied)


@dataclass(frozen=True)
class StepShift:
    """One stage of the ladder under both policies: when, or that only one reaches it."""

    stage: CaseStage
    now: datetime | None
    new: datetime | None

    @property
    def shift(self) -> timedelta | None:
        """How much later (negative: earlier) the step comes with NEW; None if one lacks it."""
        return self.new - self.now if self.now and self.new else None


@dataclass(frozen=True)
class CaseComparison:
    """One case under the running policy and under NEW."""

    history: CaseHistory
    now: Replay
    new: Replay

    @property
    def changed(self) -> bool:
        """Another outcome, another warning, other steps or other notices."""
        return self.now.steps != self.new.steps or self.now.notices != self.new.notices

    def shifts(self) -> list[StepShift]:
        """Each stage either policy reaches whose time differs, in ladder order."""
        stages = [s for s in LADDER_ORDER if s in self.now.steps or s in self.new.steps]
        shifts = [StepShift(s, self.now.steps.get(s), self.new.steps.get(s)) for s in stages]
        return [s for s in shifts if s.now != s.new]


def compare(
    histories: list[CaseHistory], running: LadderPolicy, new: LadderPolicy, horizon: datetime
) -> list[CaseComparison]:
    """Every case under both policies."""
    return [
        CaseComparison(h, replay(h, running, horizon), replay(h, new, horizon)) for h in histories
    ]
