"""From an alert to its ring: the links it makes, recorded and joined in the store, then sent
to each ring's workflow by update-with-start on the ring's id.

    await linker.link(alert, case_id)   # after intake answered opened, attached or duplicate

Idempotent: links are keyed by alert and key pair, the ring drops links it has seen, and a
merge answers the same state again. Run again on a repeated delivery (a `duplicate`), it
finishes what a failed first delivery left undone.
"""

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.alerts import Alert, related_keys
from domain.rings.links import links_of
from domain.rings.policy import RingPolicy
from domain.rings.ring import (
    RING_WORKFLOW,
    MergeInput,
    RingBatch,
    RingInput,
    RingState,
    RingUpdate,
    RingView,
    ring_workflow_id,
)
from domain.search_attributes import EXCHANGE, RING_ID
from store.access import owners_of
from store.port import Store
from store.rings import RingRoute, link_accounts, ring_row

log = logging.getLogger(__name__)
REROUTES = 3  # a ring that merged meanwhile: follow `merged_into` this many times


class RingLinker:
    """Turns alerts' related keys into links and rings."""

    def __init__(self, store: Store, client: Client, task_queue: str, policy: RingPolicy) -> None:
        self._store = store
        self._client = client
        self._task_queue = task_queue
        self._policy = policy

    async def link(self, alert: Alert, case_id: str) -> list[str]:
        """Record the alert's links; the rings that heard of them."""
        named = related_keys(alert.evidence)
        if not named:
            return []
        owners = await self._store.read(lambda c: owners_of(c, named))
        links = links_of(alert, {k: (o.account_id, o.exchange) for k, o in owners.items()})
        if not links:
            return []
        now = datetime.now(UTC)
        routes = await self._store.write(
            partial(link_accounts, links=links, policy=self._policy, now=now)
        )
        for route in routes:
            await self._send(route, {alert.key_id: case_id})
        return [route.ring_id for route in routes]

    async def _send(self, route: RingRoute, cases: dict[str, str]) -> None:
        absorbed = [
            state
            for ring_id in route.absorbed
            if (state := await self._merge(ring_id, route.ring_id)) is not None
        ]
        batch = RingBatch(links=route.links, cases=cases, absorbed=absorbed)
        ring_id = route.ring_id
        for _ in range(REROUTES):
            try:
                await self._add(ring_id, route.exchange, batch)
                return
            except (WorkflowUpdateFailedError, WorkflowAlreadyStartedError, RPCError) as error:
                row = await self._store.read(partial(ring_row, ring_id=ring_id))
                if row is None or row.merged_into is None:
                    raise
                log.info("ring %s merged into %s meanwhile (%s)", ring_id, row.merged_into, error)
                ring_id = row.merged_into
        raise RuntimeError(f"ring {route.ring_id} kept merging; links stay in the store")

    async def _add(self, ring_id: str, exchange: str, batch: RingBatch) -> RingView:
        row = await self._store.read(lambda c: ring_row(c, ring_id))
        formed_at = row.formed_at if row is not None else datetime.now(UTC)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            RING_WORKFLOW,
            RingInput(ring_id=ring_id, exchange=exchange, formed_at=formed_at, policy=self._policy),
            id=ring_workflow_id(ring_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A ring that merged away has ended: it must not start again.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(RING_ID, ring_id), SearchAttributePair(EXCHANGE, exchange)]
            ),
            static_summary=f"Ring `{ring_id}` on {exchange}",
        )
        view: RingView = await self._client.execute_update_with_start_workflow(
            RingUpdate.ADD, batch, start_workflow_operation=start, result_type=RingView
        )
        return view

    async def _merge(self, ring_id: str, into: str) -> RingState | None:
        """End `ring_id` into `into`; the state it hands over (None if it never ran)."""
        handle = self._client.get_workflow_handle(ring_workflow_id(ring_id))
        try:
            state: RingState = await handle.execute_update(
                RingUpdate.MERGE_INTO, MergeInput(into=into), result_type=RingState
            )
            return state
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        except WorkflowUpdateFailedError:
            pass
        try:  # it has ended already (a repeat of this merge): its result is the state
            ended = await handle.result()
            return RingState.model_validate(ended)
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
