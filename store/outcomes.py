"""Outcomes back to surveillance: one row per alert of each ended case, and its delivery.

    record_outcomes(connection, case_id, key_id, closed, at, now)   # by store.audit, see below
    page = await store.read(lambda c: outcomes_since(c, cursor, limit, exchanges))
    due = await store.read(lambda c: undelivered(c, limit))         # the webhook's outbox
    await store.write(lambda c: mark_delivered(c, seq, now))

`store.audit.append_facts` records a case's outcomes in the transaction that appends its
`case.closed` fact, and only when it appends it (an event id already in the chain adds
nothing), so each ending yields its outcomes exactly once and never without its fact.
They are numbered under the audit chain's lock (held to commit) as last + 1, so `seq`
order is commit order: a reader that has seen n has seen every outcome before it.
"""

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Index, Integer, String, Text, func, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from domain.activity_io import AuditFact
from domain.audit_events import EventType
from domain.outcomes import Outcome, outcomes_of_ending
from store.models import AuditEntry, Base, BigId, UTCDateTime


class OutcomeRow(Base):
    """One alert's outcome, in commit order, with the webhook's delivery state."""

    __tablename__ = "outcomes"
    __table_args__ = (Index("ix_outcomes_undelivered", "delivered_at", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    outcome_id: Mapped[str] = mapped_column(String(330), unique=True)
    alert_id: Mapped[str] = mapped_column(String(128))
    case_id: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(100))
    exchange: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The webhook's outbox: delivered once, attempts counted, the last failure kept.
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


_HEAD = select(func.max(OutcomeRow.seq))
_FIELDS = [c for c in OutcomeRow.__table__.c if c.name in Outcome.model_fields]


def record_outcomes(
    connection: Connection,
    case_id: str,
    key_id: str,
    closed: Mapping[str, Any],
    decided_at: datetime,
    now: datetime,
    alert_event_ids: Collection[str] | None = None,
) -> int:
    """The outcomes of a case that just ended, one per alert it received; how many.

    With `alert_event_ids`, only those alerts' (alerts that reached an expired case after
    its ending stay on it, and take its outcome). Call with the audit chain's lock held
    (`append_facts` does), in its transaction.
    """
    received = select(AuditEntry.payload).where(
        AuditEntry.case_id == case_id, AuditEntry.event_type == EventType.ALERT_RECEIVED
    )
    if alert_event_ids is not None:
        received = received.where(AuditEntry.event_id.in_(sorted(alert_event_ids)))
    alerts = [json.loads(p) for p in connection.scalars(received.order_by(AuditEntry.seq))]
    rows = outcomes_of_ending(case_id, key_id, closed, decided_at, alerts)
    if not rows:
        return 0
    seq = connection.scalar(_HEAD) or 0
    for row in rows:
        seq += 1
        row.update(seq=seq, recorded_at=now, attempts=0)
    connection.execute(insert(OutcomeRow), rows)
    return len(rows)


def record_late_outcomes(
    connection: Connection, alerts: Sequence[AuditFact], skip_cases: Collection[str], now: datetime
) -> int:
    """Outcomes for alerts just appended to cases that had ended already (expired keys).

    `skip_cases` ended in this very write: their closing's outcomes cover every alert.
    """
    by_case: dict[str, list[str]] = {}
    for fact in alerts:
        if fact.case_id and fact.case_id not in skip_cases:
            by_case.setdefault(fact.case_id, []).append(fact.event_id)
    if not by_case:
        return 0
    closings = connection.execute(
        select(AuditEntry.case_id, AuditEntry.key_id, AuditEntry.occurred_at, AuditEntry.payload)
        .where(AuditEntry.case_id.in_(sorted(by_case)))
        .where(AuditEntry.event_type == EventType.CASE_CLOSED)
    ).all()
    return sum(
        record_outcomes(
            connection,
            row.case_id,
            row.key_id,
            json.loads(row.payload),
            row.occurred_at,
            now,
            by_case[row.case_id],
        )
        for row in closings
    )


def outcomes_since(
    connection: Connection, since: int, limit: int, exchanges: Collection[str] | None = None
) -> list[Outcome]:
    """The outcomes after `since`, oldest first, at most `limit`; only `exchanges`' if given."""
    query = select(*_FIELDS).where(OutcomeRow.seq > since)
    if exchanges is not None:
        query = query.where(OutcomeRow.exchange.in_(sorted(exchanges)))
    rows = connection.execute(query.order_by(OutcomeRow.seq).limit(limit)).mappings()
    return [Outcome.model_validate(dict(row)) for row in rows]


def undelivered(connection: Connection, limit: int) -> list[Outcome]:
    """The oldest outcomes the webhook has not yet taken, in order."""
    query = select(*_FIELDS).where(OutcomeRow.delivered_at.is_(None))
    rows = connection.execute(query.order_by(OutcomeRow.seq).limit(limit)).mappings()
    return [Outcome.model_validate(dict(row)) for row in rows]


def mark_delivered(connection: Connection, seq: int, now: datetime) -> bool:
    """The receiver took outcome `seq`; False if it was marked already."""
    done = connection.execute(
        update(OutcomeRow)
        .where(OutcomeRow.seq == seq, OutcomeRow.delivered_at.is_(None))
        .values(delivered_at=now, attempts=OutcomeRow.attempts + 1)
        .returning(OutcomeRow.seq)
    ).first()
    return done is not None


def note_failure(connection: Connection, seq: int, error: str) -> None:
    """An attempt to deliver outcome `seq` failed: count it and keep why."""
    connection.execute(
        update(OutcomeRow)
        .where(OutcomeRow.seq == seq, OutcomeRow.delivered_at.is_(None))
        .values(attempts=OutcomeRow.attempts + 1, last_error=error[:500])
    )


def delivery_counts(connection: Connection) -> tuple[int, int]:
    """How many outcomes there are, and how many the webhook has taken."""
    total = connection.scalar(select(func.count()).select_from(OutcomeRow)) or 0
    delivered = connection.scalar(
        select(func.count()).select_from(OutcomeRow).where(OutcomeRow.delivered_at.is_not(None))
    )
    return total, delivered or 0
