"""Rings: the list from the store, one ring from its workflow, an officer's action on all of it.

A ring action goes to the ring's workflow, which applies it to every member case as that
case's own update and answers with each member's result; a member that refuses (its case
has ended, say) says why with the status its own action route would have answered (409).
"""

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.cursors import Cursors
from api.deps import Caller, Officer, PageCursors, Reader, StoreDep, TemporalClient
from api.errors import ApiError
from api.schemas import ActionIn, AssignIn, NoteIn, RingFilter, RingPage, RingSummary
from api.scope import sees
from domain.officer import OfficerAction
from domain.rings.ring import (
    RingActionInput,
    RingActionResult,
    RingQuery,
    RingState,
    RingUpdate,
    is_ring_id,
    ring_workflow_id,
)
from store.port import Store
from store.rings import RingRow, list_rings, ring_row

router = APIRouter(prefix="/v1/rings", tags=["rings"])

RingIdPath = Annotated[str, Path(max_length=64, description="`ring-<20 hex digits>`")]


def unknown_ring(ring_id: str) -> ApiError:
    return ApiError(404, "unknown_ring", f"no ring {ring_id!r}")


async def _ring_in_scope(ring_id: RingIdPath, caller: Caller, store: StoreDep) -> RingRow:
    """The ring's row; 404 for a malformed id, an unknown ring or one on another exchange."""
    if not is_ring_id(ring_id):
        raise unknown_ring(ring_id)
    row = await store.read(lambda c: ring_row(c, ring_id))
    if row is None or not sees(caller, row.exchange):
        raise unknown_ring(ring_id)
    return row


ScopedRing = Annotated[RingRow, Depends(_ring_in_scope)]


@router.get("", response_model=RingPage)
async def get_rings(
    ring_filter: Annotated[RingFilter, Query()],
    caller: Reader,
    store: StoreDep,
    cursors: PageCursors,
) -> RingPage:
    """Rings still going, filtered by exchange and minimum size (accounts), newest first."""
    return await _page(store, cursors, ring_filter, caller.exchanges)


@router.get("/{ring_id}", response_model=RingState)
async def get_ring(caller: Reader, ring: ScopedRing, client: TemporalClient) -> RingState:
    """The ring: members (accounts, keys, their cases), links with reasons, decisions."""
    handle = client.get_workflow_handle(ring_workflow_id(ring.ring_id))
    try:
        state: RingState = await handle.query(RingQuery.RING, result_type=RingState)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise unknown_ring(ring.ring_id) from None
        raise
    except WorkflowQueryFailedError as error:
        raise ApiError(503, "ring_unreadable", f"ring cannot be read now: {error}") from None
    return state


@router.post("/{ring_id}/actions/confirm", response_model=RingActionResult)
async def confirm(
    caller: Officer, ring: ScopedRing, body: ActionIn, client: TemporalClient
) -> RingActionResult:
    """Confirm every member case (each in MONITORING escalates to a warning)."""
    return await _act(client, ring, OfficerAction.CONFIRM, caller.name, body)


@router.post("/{ring_id}/actions/dismiss", response_model=RingActionResult)
async def dismiss(
    caller: Officer, ring: ScopedRing, body: ActionIn, client: TemporalClient
) -> RingActionResult:
    """Dismiss every member case as a false positive."""
    return await _act(client, ring, OfficerAction.DISMISS, caller.name, body)


@router.post("/{ring_id}/actions/expire-now", response_model=RingActionResult)
async def expire_now(
    caller: Officer, ring: ScopedRing, body: ActionIn, client: TemporalClient
) -> RingActionResult:
    """Expire every member's key at once (irreversible)."""
    return await _act(client, ring, OfficerAction.EXPIRE_NOW, caller.name, body)


@router.post("/{ring_id}/actions/approve", response_model=RingActionResult)
async def approve(
    caller: Officer, ring: ScopedRing, body: ActionIn, client: TemporalClient
) -> RingActionResult:
    """Approve, on every member case, the dismiss or expire-now another officer asked for."""
    return await _act(client, ring, OfficerAction.APPROVE, caller.name, body)


@router.post("/{ring_id}/actions/reject-pending", response_model=RingActionResult)
async def reject_pending(
    caller: Officer, ring: ScopedRing, body: ActionIn, client: TemporalClient
) -> RingActionResult:
    """Reject, on every member case, the dismiss or expire-now another officer asked for."""
    return await _act(client, ring, OfficerAction.REJECT_PENDING, caller.name, body)


@router.post("/{ring_id}/actions/assign", response_model=RingActionResult)
async def assign(
    caller: Officer, ring: ScopedRing, body: AssignIn, client: TemporalClient
) -> RingActionResult:
    """Give every member case to one officer."""
    return await _act(client, ring, OfficerAction.ASSIGN, caller.name, body, body.assignee)


@router.post("/{ring_id}/actions/note", response_model=RingActionResult)
async def note(
    caller: Officer, ring: ScopedRing, body: NoteIn, client: TemporalClient
) -> RingActionResult:
    """Add the same note to every member case."""
    return await _act(client, ring, OfficerAction.ADD_NOTE, caller.name, body, text=body.text)


async def _act(
    client: Client,
    ring: RingRow,
    action: OfficerAction,
    actor: str,
    body: ActionIn,
    assignee: str | None = None,
    text: str | None = None,
) -> RingActionResult:
    if ring.merged_into is not None:
        message = f"ring {ring.ring_id} was merged into {ring.merged_into}; act on that ring"
        raise ApiError(409, "action_rejected", message)
    command = RingActionInput(
        action=action, actor=actor, reason=body.reason, assignee=assignee, text=text
    )
    handle = client.get_workflow_handle(ring_workflow_id(ring.ring_id))
    try:
        result: RingActionResult = await handle.execute_update(
            RingUpdate.ACT, command, result_type=RingActionResult
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        raise ApiError(409, "action_rejected", message) from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, "ring_closed", f"ring {ring.ring_id} has ended") from None
        raise
    return result


async def _page(
    store: Store, cursors: Cursors, ring_filter: RingFilter, exchanges: frozenset[str] | None
) -> RingPage:
    after = None
    if ring_filter.cursor is not None:
        formed_at, ring_id = json.loads(cursors.read(ring_filter.cursor))
        after = (datetime.fromisoformat(formed_at), ring_id)
    rows = await store.read(
        lambda c: list_rings(
            c,
            exchanges=exchanges,
            exchange=ring_filter.exchange,
            min_size=ring_filter.min_size,
            after=after,
            limit=ring_filter.limit + 1,
        )
    )
    more = len(rows) > ring_filter.limit
    rows = rows[: ring_filter.limit]
    cursor = None
    if more and rows:
        last = rows[-1]
        cursor = cursors.issue(json.dumps([last.formed_at.isoformat(), last.ring_id]).encode())
    return RingPage(
        rings=[
            RingSummary(
                ring_id=r.ring_id,
                exchange=r.exchange,
                size=r.size,
                formed_at=r.formed_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ],
        next_cursor=cursor,
    )
