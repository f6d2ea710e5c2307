"""RingWorkflow: one investigation for accounts linked by shared origins or related keys.

Opened by update-with-start on the ring's id whenever links reach it (`api.ring_links`). It
holds the members, the links with their reasons and the officers' decisions; acts on member
cases only through their own updates (`fan_out_ring_action`) and signals
(`tell_ring_members`), so each case keeps its own validated history. Handlers take one lock,
so a batch of links, a merge and an action never interleave. When two rings join, the
younger ends recording the merge and hands its state to the older, which continues.
"""

import asyncio
from collections import deque
from collections.abc import Iterable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import AuditFact
    from domain.rings import audit
    from domain.rings import ring as rules
    from domain.rings.links import Link
    from domain.rings.ring import (
        RING_WORKFLOW,
        SEEN_LINKS,
        FanOutInput,
        FanOutResult,
        MemberOutcome,
        MemberTarget,
        MergeInput,
        RingActionInput,
        RingActionResult,
        RingActivity,
        RingBatch,
        RingDecision,
        RingInput,
        RingQuery,
        RingState,
        RingStatus,
        RingUpdate,
        RingView,
        TellInput,
        TellResult,
    )
    from domain.search_attributes import RING_SIZE

from workflows import case_effects

FAN_OUT_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name=RING_WORKFLOW)
class RingWorkflow:
    """Holds one ring until it merges into another; continues as new when its history grows."""

    @workflow.init
    def __init__(self, start: RingInput) -> None:
        self._state = start.carried or RingState(
            ring_id=start.ring_id,
            exchange=start.exchange,
            formed_at=start.formed_at,
            raised_at=start.policy.raise_at,
        )
        self._seen: deque[str] = deque(start.seen_links, maxlen=SEEN_LINKS)
        self._seen_set = set(self._seen)
        self._lock = asyncio.Lock()
        self._shown_size = self._state.size if start.carried else -1

    @workflow.run
    async def run(self, start: RingInput) -> RingState:
        """Wait for links, merges and actions; end once merged into another ring."""
        while True:
            await workflow.wait_condition(
                lambda: self._state.status is RingStatus.MERGED or self._grown(start)
            )
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._state.status is RingStatus.MERGED:
                return self._state
            if self._grown(start) and not self._lock.locked():
                workflow.continue_as_new(
                    RingInput(
                        ring_id=start.ring_id,
                        exchange=start.exchange,
                        formed_at=start.formed_at,
                        policy=start.policy,
                        carried=self._state,
                        seen_links=list(self._seen),
                        event_budget=start.event_budget,
                    )
                )

    def _grown(self, start: RingInput) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= start.event_budget
        )

    # -- links and merges -------------------------------------------------------------

    @workflow.update(name=RingUpdate.ADD)
    async def add_links(self, batch: RingBatch) -> RingView:
        """Links routed to this ring, the case of the alert's key, rings merged into it."""
        async with self._lock:
            before = self._state
            now = workflow.now()
            state, changes = rules.absorb(before, batch, self._seen_set, now)
            self._remember(link.link_id for link in batch.links)
            self._state = state
            facts: list[AuditFact] = []
            if changes.formed:
                facts.append(audit.ring_formed(state, batch.links, now))
            why: dict[str, Link] = {}
            for link in batch.links:
                why.setdefault(link.key_a, link)
                why.setdefault(link.key_b, link)
            cases = {t.key_id: t.case_id for t in rules.targets(state)}
            for account, key in changes.joined:
                facts.append(
                    audit.member_joined(state, account, key, cases.get(key), why.get(key), now)
                )
            facts += [audit.rings_merged(state, absorbed, now) for absorbed in changes.merged]
            await self._record(facts)
            if state.standing is not None and changes.new_cases:
                # Before the raise: a key joining a confirmed ring starts confirmed.
                await self._inherit(state.standing, changes.new_cases)
            await self._tell()
            self._show()
            return RingView(ring_id=state.ring_id, size=self._state.size, status=state.status)

    @add_links.validator
    def _check_add(self, batch: RingBatch) -> None:
        if self._state.status is RingStatus.MERGED:
            raise ValueError(
                f"ring {self._state.ring_id} was merged into {self._state.merged_into}"
            )

    @workflow.update(name=RingUpdate.MERGE_INTO)
    async def merge_into(self, request: MergeInput) -> RingState:
        """End this ring: its members belong to `into` now. Answers the state handed over."""
        async with self._lock:
            if self._state.status is RingStatus.OPEN:
                self._state = self._state.model_copy(
                    update={"status": RingStatus.MERGED, "merged_into": request.into}
                )
                workflow.set_current_details(f"**Merged into** {request.into}")
            return self._state

    @merge_into.validator
    def _check_merge(self, request: MergeInput) -> None:
        merged_into = self._state.merged_into
        if request.into == self._state.ring_id:
            raise ValueError("a ring cannot merge into itself")
        if merged_into is not None and merged_into != request.into:
            raise ValueError(f"ring {self._state.ring_id} was merged into {merged_into}")

    # -- officers ---------------------------------------------------------------------

    @workflow.update(name=RingUpdate.ACT)
    async def act(self, command: RingActionInput) -> RingActionResult:
        """Apply an officer's action to every member case, each as that case's own update."""
        async with self._lock:
            problem = rules.reject_ring_action(self._state, command)
            if problem:  # the state changed since the validator ran
                raise ValueError(problem)
            seq = self._state.decision_count + 1
            outcomes = await self._fan_out(seq, command, rules.targets(self._state))
            applied = sum(1 for o in outcomes if o.applied)
            decision = RingDecision(
                seq=seq,
                action=command.action,
                actor=command.actor,
                reason=command.reason.strip(),
                at=workflow.now(),
                assignee=command.assignee,
                text=command.text,
                applied=applied,
                refused=len(outcomes) - applied,
            )
            self._state = rules.record_decision(self._state, decision)
            await self._record([audit.action_fanned_out(self._state, decision, outcomes, False)])
            self._show()
            return RingActionResult(
                ring_id=self._state.ring_id,
                action=command.action,
                seq=seq,
                applied=applied,
                refused=len(outcomes) - applied,
                members=outcomes,
            )

    @act.validator
    def _check_act(self, command: RingActionInput) -> None:
        problem = rules.reject_ring_action(self._state, command)
        if problem:
            raise ValueError(problem)

    @workflow.query(name=RingQuery.RING)
    def ring(self) -> RingState:
        """The whole ring now."""
        return self._state

    # -- effects ----------------------------------------------------------------------

    async def _fan_out(
        self, seq: int, command: RingActionInput, targets: list[MemberTarget]
    ) -> list[MemberOutcome]:
        if not targets:
            return []
        result: FanOutResult = await workflow.execute_activity(
            RingActivity.FAN_OUT,
            FanOutInput(ring_id=self._state.ring_id, seq=seq, command=command, targets=targets),
            result_type=FanOutResult,
            start_to_close_timeout=FAN_OUT_TIMEOUT,
            retry_policy=RETRY,
            summary=f"{command.action.value} to {len(targets)} member case(s)",
        )
        return result.outcomes

    async def _inherit(self, standing: RingDecision, joined: list[MemberTarget]) -> None:
        """Keys that joined after a confirm, dismiss or expire-now take it too."""
        command = RingActionInput(
            action=standing.action,
            actor=standing.actor,
            reason=standing.reason,
            assignee=standing.assignee,
            text=standing.text,
        )
        outcomes = await self._fan_out(standing.seq, command, joined)
        applied = sum(1 for o in outcomes if o.applied)
        self._state = rules.inherited(self._state, applied, len(outcomes) - applied)
        assert self._state.standing is not None
        await self._record(
            [audit.action_fanned_out(self._state, self._state.standing, outcomes, True)]
        )

    async def _tell(self) -> None:
        """Tell new member cases their ring; raise them all once the ring is big enough."""
        tell, raise_ = rules.to_tell(self._state), rules.to_raise(self._state)
        if not tell and not raise_:
            return
        await workflow.execute_activity(
            RingActivity.TELL_MEMBERS,
            TellInput(
                ring_id=self._state.ring_id,
                exchange=self._state.exchange,
                size=self._state.size,
                tell=tell,
                raise_severity=raise_,
            ),
            result_type=TellResult,
            start_to_close_timeout=FAN_OUT_TIMEOUT,
            retry_policy=RETRY,
            summary=f"tell {len(tell)}, raise {len(raise_)} member case(s)",
        )
        self._state = rules.mark_keys(
            self._state, {t.key_id for t in tell}, told=self._state.ring_id
        )
        self._state = rules.mark_keys(self._state, {t.key_id for t in raise_}, raised=True)

    async def _record(self, facts: list[AuditFact]) -> None:
        if facts and await case_effects.record_facts(facts):
            workflow.logger.error("the store refused some of ring %s's facts", self._state.ring_id)

    def _show(self) -> None:
        state = self._state
        if state.size != self._shown_size:
            workflow.upsert_search_attributes([RING_SIZE.value_set(state.size)])
            self._shown_size = state.size
        standing = state.standing
        lines = [
            f"**Ring** {state.ring_id} on {state.exchange}: {state.size} accounts,"
            f" {state.link_count} links",
            f"**Standing decision** {standing.action.value} by {standing.actor}: {standing.reason}"
            if standing
            else "**Standing decision** none",
        ]
        if state.merged_from:
            lines.append(f"**Merged from** {', '.join(state.merged_from[-10:])}")
        workflow.set_current_details("  \n".join(lines))

    def _remember(self, link_ids: Iterable[str]) -> None:
        for link_id in link_ids:
            if link_id in self._seen_set:
                continue
            if len(self._seen) == self._seen.maxlen:
                self._seen_set.discard(self._seen[0])
            self._seen.append(link_id)
            self._seen_set.add(link_id)
