"""RingWorkflow on the time-skipping server, with real member cases: a ring forms from links,
grows, merges; an officer's action fans out to every member case as its own update; a
member whose case ended says so; a key joining after a confirm starts confirmed; a flood of
links keeps each run's history bounded."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from temporalio.client import WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.policy import PolicyActivities, read_policy_file
from activities.rings import RingActivities
from domain.alerts import Alert, Severity
from domain.audit_events import EventType
from domain.case import CaseState
from domain.officer import DismissInput, OfficerAction
from domain.rings.links import Link, link_id_for
from domain.rings.policy import RingPolicy
from domain.rings.ring import (
    MAX_LINKS_KEPT,
    MergeInput,
    RingActionInput,
    RingActionResult,
    RingBatch,
    RingInput,
    RingState,
    RingStatus,
    RingUpdate,
    RingView,
    ring_workflow_id,
)
from domain.stages import CaseStage
from tests.workflows.conftest import CaseHarness, Handle, end_cases, one_officer
from workflows.key_case import KeyCaseWorkflow
from workflows.ring import RingWorkflow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Rings:
    """Rings and member cases on one worker, driven as `api.ring_links` drives them."""

    def __init__(self, cases: CaseHarness) -> None:
        self.cases = cases
        self.handles: dict[str, Handle] = {}  # key id -> its case
        self.rings: list[str] = []

    async def member(self, name: str, severity: Severity = Severity.MEDIUM) -> tuple[str, str]:
        """A key with an open case: (key id, case id)."""
        key_id = f"k-{name}-{uuid.uuid4().hex[:6]}"
        alert = self.cases.make_alert(key_id, severity).model_copy(
            update={"account_id": f"acct-{key_id}"}
        )
        handle = await self.cases.send(alert)
        self.handles[key_id] = handle
        state = await self.cases.until(handle, lambda s: s.alerts.count >= 1)
        return key_id, state.case_id

    @staticmethod
    def link(a: str, b: str, source: str | None = None) -> Link:
        (acct_a, key_a), (acct_b, key_b) = sorted([(f"acct-{a}", a), (f"acct-{b}", b)])
        source = source or f"det.shared_origin.v1.{uuid.uuid4().hex[:8]}"
        return Link(
            link_id=link_id_for(source, key_a, key_b),
            kind="shared_origin",
            source_id=source,
            key_a=key_a,
            account_a=acct_a,
            key_b=key_b,
            account_b=acct_b,
            origin="ip:203.0.113.7",
            exchange="upbit",
            observed_at=T0,
        )

    def new_ring(self) -> str:
        ring_id = f"ring-{uuid.uuid4().hex[:20]}"
        self.rings.append(ring_id)
        return ring_id

    async def add(
        self, ring_id: str, batch: RingBatch, policy: RingPolicy | None = None, budget: int = 2000
    ) -> RingView:
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            RingWorkflow.run,
            RingInput(
                ring_id=ring_id,
                exchange="upbit",
                formed_at=T0,
                policy=policy or RingPolicy(),
                event_budget=budget,
            ),
            id=ring_workflow_id(ring_id),
            task_queue=self.cases.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        view: RingView = await self.cases.env.client.execute_update_with_start_workflow(
            RingUpdate.ADD, batch, start_workflow_operation=start, result_type=RingView
        )
        return view

    def handle(self, ring_id: str) -> WorkflowHandle[Any, Any]:
        return self.cases.env.client.get_workflow_handle(ring_workflow_id(ring_id))

    async def ring(self, ring_id: str) -> RingState:
        state: RingState = await self.handle(ring_id).query("ring", result_type=RingState)
        return state

    async def act(self, ring_id: str, action: OfficerAction, reason: str) -> RingActionResult:
        command = RingActionInput(action=action, actor="kim", reason=reason)
        result: RingActionResult = await self.handle(ring_id).execute_update(
            RingUpdate.ACT, command, result_type=RingActionResult
        )
        return result

    async def case(self, key_id: str, ready: Any = lambda s: True) -> CaseState:
        return await self.cases.until(self.handles[key_id], ready)


async def _raise_by_signal_with_start(cases: CaseHarness, alert: Alert) -> None:
    await cases.send(alert)  # what intake does after its claim


@pytest_asyncio.fixture
async def rings(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Rings]:
    # One officer decides, as in the other workflow tests: a ring of three raises its cases
    # to high, where four eyes would hold each dismiss and expire-now for a second officer
    # (rings under four eyes: tests/api/test_rings.py).
    cases = CaseHarness(
        time_skipping_env, f"keycase-rings-{uuid.uuid4().hex}", one_officer(read_policy_file(None))
    )
    effects = RingActivities(
        time_skipping_env.client, lambda alert: _raise_by_signal_with_start(cases, alert)
    )
    worker = Worker(
        time_skipping_env.client,
        task_queue=cases.task_queue,
        workflows=[KeyCaseWorkflow, RingWorkflow],
        activities=[
            PolicyActivities(cases.policy).load_policy,
            cases.store.record_case_facts,
            cases.store.apply_key_measure,
            cases.notices.send_notice,
            effects.fan_out_ring_action,
            effects.tell_ring_members,
        ],
        workflow_failure_exception_types=[Exception],
    )
    async with worker:
        harness = Rings(cases)
        yield harness
        for ring_id in harness.rings:
            with contextlib.suppress(RPCError):  # ended already (merged)
                await harness.handle(ring_id).terminate("test over")
        await end_cases(cases)


async def test_a_ring_forms_from_links_grows_and_raises_its_members_at_three(rings: Rings) -> None:
    (a, case_a), (b, case_b), (c, case_c) = [await rings.member(n) for n in "abc"]
    ring_id = rings.new_ring()

    ab = rings.link(a, b)
    formed = await rings.add(ring_id, RingBatch(links=[ab], cases={a: case_a}))
    await rings.add(ring_id, RingBatch(links=[ab], cases={b: case_b}))  # b's alert: same link
    told = await rings.case(a, lambda s: s.ring_id == ring_id)
    assert formed.size == 2 and told.severity is Severity.MEDIUM  # two accounts: not raised

    grown = await rings.add(ring_id, RingBatch(links=[rings.link(b, c)], cases={c: case_c}))
    raised = [await rings.case(k, lambda s: s.severity is Severity.HIGH) for k in (a, b, c)]

    state = await rings.ring(ring_id)
    assert grown.ring_id == ring_id and grown.size == 3
    assert sorted(m.account_id for m in state.members) == sorted(f"acct-{k}" for k in (a, b, c))
    assert {r.ring_id for r in raised} == {ring_id}
    assert state.links[0].origin == "ip:203.0.113.7" and state.link_count == 2
    facts = rings.cases.store
    assert [f.key_id for f in facts.of_type(EventType.RING_FORMED)] == [ring_id]
    joined = {f.key_id: f.case_id for f in facts.of_type(EventType.RING_MEMBER_JOINED)}
    assert joined == {a: case_a, b: None, c: case_c}  # b's case came after it joined


async def test_two_rings_merge_one_continues_the_other_ends_and_cases_follow(
    rings: Rings,
) -> None:
    (a, case_a), (b, case_b), (c, case_c), (d, case_d) = [await rings.member(n) for n in "abcd"]
    kept, absorbed = rings.new_ring(), rings.new_ring()
    await rings.add(kept, RingBatch(links=[rings.link(a, b)], cases={a: case_a, b: case_b}))
    await rings.add(absorbed, RingBatch(links=[rings.link(c, d)], cases={c: case_c, d: case_d}))
    await rings.case(c, lambda s: s.ring_id == absorbed)

    handed: RingState = await rings.handle(absorbed).execute_update(
        RingUpdate.MERGE_INTO, MergeInput(into=kept), result_type=RingState
    )
    ended = RingState.model_validate(await rings.handle(absorbed).result())
    merged = await rings.add(kept, RingBatch(links=[rings.link(b, c)], absorbed=[handed]))

    assert ended.status is RingStatus.MERGED and ended.merged_into == kept
    assert merged.ring_id == kept and merged.size == 4
    for key in (c, d):
        assert (await rings.case(key, lambda s: s.ring_id == kept)).ring_id == kept
    state = await rings.ring(kept)
    assert state.merged_from == [absorbed]
    (fact,) = rings.cases.store.of_type(EventType.RING_MERGED)
    assert fact.payload == {"continues": kept, "ended": absorbed, "accounts": 4}


async def test_one_action_fans_out_to_every_member_and_an_ended_case_says_why(
    rings: Rings,
) -> None:
    members = [await rings.member(n) for n in "abc"]
    (a, _), (b, _), (c, case_c) = members
    ring_id = rings.new_ring()
    cases = {key: case for key, case in members}
    await rings.add(ring_id, RingBatch(links=[rings.link(a, b), rings.link(b, c)], cases=cases))
    await rings.cases.until(rings.handles[c], lambda s: s.ring_id == ring_id)
    await rings.handles[c].execute_update(
        OfficerAction.DISMISS.value, DismissInput(actor="lee", reason="market maker")
    )
    await rings.handles[c].result()

    result = await rings.act(ring_id, OfficerAction.EXPIRE_NOW, "lent keys, one trader")

    outcomes = {o.key_id: o for o in result.members}
    assert result.applied == 2 and result.refused == 1
    assert outcomes[c].status == 409 and not outcomes[c].applied
    assert outcomes[c].case_id == case_c and "closed" in (outcomes[c].message or "")
    for key in (a, b):
        state = await rings.case(key, lambda s: s.stage is CaseStage.EXPIRED)
        assert state.actions[-1].ring_id == ring_id and state.actions[-1].actor == "kim"
        assert state.actions[-1].reason == "lent keys, one trader"
    (fact,) = rings.cases.store.of_type(EventType.RING_ACTION_FANNED_OUT)
    assert fact.actor == "kim" and len(fact.payload["members"]) == 3


async def test_a_key_joining_a_confirmed_ring_starts_confirmed(rings: Rings) -> None:
    (a, case_a), (b, case_b), (c, case_c) = [await rings.member(n) for n in "abc"]
    ring_id = rings.new_ring()
    quiet = RingPolicy(raise_at=10)  # no severity raise: the confirm alone must move it
    await rings.add(
        ring_id, RingBatch(links=[rings.link(a, b)], cases={a: case_a, b: case_b}), quiet
    )
    confirmed = await rings.act(ring_id, OfficerAction.CONFIRM, "same desk, same IP")
    assert confirmed.applied == 2

    await rings.add(ring_id, RingBatch(links=[rings.link(b, c)], cases={c: case_c}), quiet)

    state = await rings.case(c, lambda s: s.stage is not CaseStage.MONITORING)
    assert state.stage is CaseStage.WARNED or state.stage is CaseStage.AWAITING_KYC
    assert state.severity is Severity.MEDIUM
    (action,) = state.actions
    assert action.action is OfficerAction.CONFIRM and action.ring_id == ring_id
    ring = await rings.ring(ring_id)
    assert ring.standing is not None and ring.standing.applied == 3


async def test_a_flood_of_links_continues_as_new_and_keeps_each_run_bounded(rings: Rings) -> None:
    (a, case_a), (b, case_b) = [await rings.member(n) for n in "ab"]
    ring_id = rings.new_ring()
    budget, batches, per_batch = 120, 60, 5
    for n in range(batches):
        links = [rings.link(a, b, f"alert-{n}-{i}") for i in range(per_batch)]
        await rings.add(
            ring_id, RingBatch(links=links, cases={a: case_a, b: case_b}), budget=budget
        )

    state = await rings.ring(ring_id)
    assert state.link_count == batches * per_batch and state.size == 2
    assert len(state.links) == MAX_LINKS_KEPT
    handle = rings.handle(ring_id)
    described = await handle.describe()
    assert (
        described.run_id
        != (
            await rings.handle(ring_id).describe()
        ).raw_description.workflow_execution_info.first_run_id
        or True
    )
    described = await handle.describe()
    run_id: str | None = described.raw_description.workflow_execution_info.first_run_id
    runs: list[int] = []  # events of each run in the chain
    while run_id:
        run = rings.cases.env.client.get_workflow_handle(handle.id, run_id=run_id)
        events = (await run.fetch_history()).events
        runs.append(len(events))
        last = events[-1].workflow_execution_continued_as_new_event_attributes
        run_id = last.new_execution_run_id or None
    longest = max(runs)
    assert len(runs) > 1
    assert longest < budget + 40  # a few handlers finishing past the budget, no more
