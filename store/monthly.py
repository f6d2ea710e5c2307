"""What the monthly report reads: the month's cases' audit rows, notices and key changes.

    events = month_events(connection, start, end)   # an iterator: read it inside the scan

Cases belong to the month of their `case.opened` row; their rows are streamed in case
order (then chain order), `yield_per` rows at a time, so 10,000 cases never sit in memory
as ORM objects.
"""

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import aliased

from domain.reports.monthly import CaseEvent, NoticeOutcome
from store.models import AuditEntry
from store.outbox import OutboxRow

YIELD_PER = 5000


def _opened_in(start: datetime, end: datetime) -> Select[str | None]:
    return select(AuditEntry.case_id).where(
        AuditEntry.event_type == "case.opened",
        AuditEntry.occurred_at >= start,
        AuditEntry.occurred_at < end,
    )


def month_events(connection: Connection, start: datetime, end: datetime) -> Iterator[CaseEvent]:
    """Every audit row of the cases opened in [start, end), by case then seq."""
    query = (
        select(
            AuditEntry.case_id,
            AuditEntry.event_type,
            AuditEntry.occurred_at,
            AuditEntry.actor,
            AuditEntry.payload,
        )
        .where(AuditEntry.case_id.in_(_opened_in(start, end).scalar_subquery()))
        .order_by(AuditEntry.case_id, AuditEntry.seq)
        .execution_options(yield_per=YIELD_PER)
    )
    for row in connection.execute(query):
        yield CaseEvent(
            row.case_id, row.event_type, row.occurred_at, row.actor, json.loads(row.payload)
        )


def month_notices(connection: Connection, start: datetime, end: datetime) -> list[NoticeOutcome]:
    """The final word on each notice channel of the month's cases."""
    query = select(
        OutboxRow.case_id, OutboxRow.channel, OutboxRow.status, OutboxRow.provider_message_id
    ).where(OutboxRow.case_id.in_(_opened_in(start, end).scalar_subquery()))
    return [
        NoticeOutcome(r.case_id, r.channel, r.status, r.provider_message_id is not None)
        for r in connection.execute(query)
    ]


def month_key_changes(
    connection: Connection, start: datetime, end: datetime, exchange: str | None = None
) -> list[tuple[str, str]]:
    """(from, to) of every key-status change made in [start, end) (on `exchange`'s keys)."""
    opened = aliased(AuditEntry)
    query = (
        select(AuditEntry.payload, opened.payload.label("opened"))
        .join(
            opened,
            (opened.case_id == AuditEntry.case_id) & (opened.event_type == "case.opened"),
            isouter=True,
        )
        .where(
            AuditEntry.event_type == "key.status_changed",
            AuditEntry.occurred_at >= start,
            AuditEntry.occurred_at < end,
        )
    )
    changes: list[tuple[str, str]] = []
    for row in connection.execute(query):
        if exchange is not None:
            case_exchange = json.loads(row.opened).get("exchange") if row.opened else None
            if case_exchange != exchange:
                continue
        payload = json.loads(row.payload)
        changes.append((str(payload.get("from")), str(payload.get("to"))))
    return changes
