"""The gateways' side of the registry: the change feed their replicas follow, and the
decisions they made in process, reported back for the access log."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.exc import IntegrityError

from api.deps import Gateway, StoreDep
from api.feed_head import FeedHead
from api.feed_schemas import (
    AccessReportIn,
    AccessReportOut,
    KeyChangeOut,
    KeyChangesOut,
    KeyViewOut,
)
from observability.metrics import GATEWAY_DECISIONS
from store.access import record_report
from store.registry import KeyChangeRow, changes_since, feed_head

router = APIRouter(tags=["gateway"])

MAX_WAIT_SECONDS = 30.0


@router.get("/v1/keys/changes", response_model=KeyChangesOut)
async def key_changes(
    request: Request,
    caller: Gateway,
    store: StoreDep,
    since: Annotated[int, Query(ge=0, description="the cursor of the last page applied")] = 0,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="long-poll seconds")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> KeyChangesOut:
    """The key changes after `since`, oldest first; with `wait`, held until one arrives."""
    rows = await store.read(lambda c: changes_since(c, since, limit))
    if not rows and since > 0 and await store.read(feed_head) < since:
        rows = await store.read(lambda c: changes_since(c, 0, limit))
        return _page(rows, 0, limit, reset=True)
    if not rows and wait > 0:
        head: FeedHead = request.app.state.feed_head
        await head.wait_past(since, wait)
        rows = await store.read(lambda c: changes_since(c, since, limit))
    return _page(rows, since, limit)


@router.post("/v1/access-reports", response_model=AccessReportOut)
async def report_decisions(
    body: AccessReportIn, caller: Gateway, store: StoreDep
) -> AccessReportOut:
    """Record decisions a gateway made from its replica; a resent batch counts once."""
    rows = [
        {
            "key_id": d.key_id,
            "ip": d.ip,
            "permission": d.permission.value,
            "allowed": d.allowed,
            "reason": d.reason.value,
            "decided_at": d.decided_at,
        }
        for d in body.decisions
    ]
    now = datetime.now(UTC)
    try:
        recorded = await store.write(lambda c: record_report(c, body.batch_id, rows, now))
    except IntegrityError:  # the same batch, resent while the first was being written
        recorded = False
    if recorded:
        for row in rows:
            GATEWAY_DECISIONS.labels("replica", row["reason"]).inc()
    return AccessReportOut(recorded=len(rows) if recorded else 0)


def _page(rows: list[KeyChangeRow], since: int, limit: int, reset: bool = False) -> KeyChangesOut:
    changes = [
        KeyChangeOut(
            seq=row.seq,
            changed_at=row.changed_at,
            key=KeyViewOut(
                key_id=row.view.key_id,
                account_id=row.view.account_id,
                exchange=row.view.exchange,
                status=row.view.status,
                permissions=list(row.view.permissions),
                allowed_ips=list(row.view.allowed_ips),
                expires_at=row.view.expires_at,
            ),
        )
        for row in rows
    ]
    cursor = rows[-1].seq if rows else since
    return KeyChangesOut(changes=changes, cursor=cursor, more=len(rows) == limit, reset=reset)
