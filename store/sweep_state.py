"""Where the detection sweep stands: the access log counted up to a watermark, and the time
span whose windows still wait for the detectors.

    counted = count_new_rows(connection, max_rows=200_000, settled_before=now - settle, now=now)
    span = pending_span(connection)                  # the windows the detectors look at
    finish_span(connection, span)                    # after their alerts went out
    pruned = prune_access_log(connection, before=now - retention, batch=5_000)

Counting and moving the watermark happen in one transaction, so a sweep that fails
counts nothing and the next one counts the same rows once. The pending span outlives a
sweep that failed after counting: the next sweep looks at those windows again, and the
alerts' deterministic ids make intake answer `duplicate` for what was already raised.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Connection, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from store.access_tallies import add_tallies, drop_tallies_before
from store.models import AccessLogEntry, Base, UTCDateTime, insert_into

SWEEP = "access_log"  # the one sweep's row


class SweepRow(Base):
    """The sweep's watermark (last access-log id counted) and the span still to look at."""

    __tablename__ = "detection_sweep"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    watermark_id: Mapped[int] = mapped_column(BigInteger)
    pending_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pending_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Counted:
    """What one call of `count_new_rows` did."""

    rows: int  # access-log rows counted into the tallies
    watermark_id: int
    caught_up: bool  # False: more settled rows wait beyond `max_rows`; young ones never count


@dataclass(frozen=True)
class Span:
    """The time span whose windows the detectors have not finished with."""

    first: datetime
    last: datetime


def _state(connection: Connection, now: datetime) -> SweepRow:
    insert = insert_into(connection.dialect.name, SweepRow).values(
        name=SWEEP, watermark_id=0, updated_at=now
    )
    connection.execute(insert.on_conflict_do_nothing())
    row = connection.execute(
        select(SweepRow.watermark_id, SweepRow.pending_from, SweepRow.pending_to)
        .where(SweepRow.name == SWEEP)
        .with_for_update()  # PostgreSQL: a backtest's catch-up waits for a running sweep
    ).one()
    return SweepRow(
        name=SWEEP, watermark_id=row[0], pending_from=row[1], pending_to=row[2], updated_at=now
    )


def count_new_rows(
    connection: Connection, *, max_rows: int, settled_before: datetime, now: datetime
) -> Counted:
    """Count up to `max_rows` access-log rows past the watermark into the tallies and move it.

    Only rows decided before `settled_before` are taken, and only up to the first that is
    not: on PostgreSQL a row may commit after one with a higher id, within milliseconds."""
    state = _state(connection, now)
    log = AccessLogEntry
    ahead = (
        select(log.id).where(log.id > state.watermark_id).order_by(log.id).limit(max_rows)
    ).subquery()
    ceiling = connection.execute(select(func.max(ahead.c.id), func.count())).one()
    if ceiling[0] is None:
        return Counted(0, state.watermark_id, True)
    young = connection.execute(
        select(func.min(log.id)).where(
            log.id > state.watermark_id, log.id <= ceiling[0], log.decided_at >= settled_before
        )
    ).scalar()
    through = ceiling[0] if young is None else young - 1
    if through <= state.watermark_id:
        return Counted(0, state.watermark_id, True)
    in_range = (log.id > state.watermark_id, log.id <= through)
    rows, first, last = connection.execute(
        select(
            func.count(),
            func.min(log.decided_at, type_=UTCDateTime()),
            func.max(log.decided_at, type_=UTCDateTime()),
        ).where(*in_range)
    ).one()
    add_tallies(connection, state.watermark_id, through)
    first = min(first, state.pending_from or first)
    last = max(last, state.pending_to or last)
    connection.execute(
        update(SweepRow)
        .where(SweepRow.name == SWEEP)
        .values(watermark_id=through, pending_from=first, pending_to=last, updated_at=now)
    )
    # Stopped at a young row: every settled row is counted, the rest waits for the next sweep.
    return Counted(rows, through, young is not None or ceiling[1] < max_rows)


def pending_span(connection: Connection) -> Span | None:
    """The span counted but not yet looked at by every detector, if any."""
    row = connection.execute(
        select(SweepRow.pending_from, SweepRow.pending_to).where(SweepRow.name == SWEEP)
    ).first()
    if row is None or row[0] is None or row[1] is None:
        return None
    return Span(row[0], row[1])


def finish_span(connection: Connection, span: Span, now: datetime) -> bool:
    """The detectors are done with `span`: clear it, unless counting has moved it on since."""
    result = connection.execute(
        update(SweepRow)
        .where(
            SweepRow.name == SWEEP,
            SweepRow.pending_from == span.first,
            SweepRow.pending_to == span.last,
        )
        .values(pending_from=None, pending_to=None, updated_at=now)
    )
    return result.rowcount == 1


def watermark(connection: Connection) -> int:
    """The last access-log id counted (0 before the first sweep)."""
    value = connection.execute(select(SweepRow.watermark_id).where(SweepRow.name == SWEEP)).scalar()
    return int(value or 0)


def prune_access_log(connection: Connection, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` counted access-log rows decided before `before`; returns how many.

    It reads the oldest `batch` ids only (the primary key's head), never the whole log:
    rows enter in time order, so the oldest are the ones to go."""
    log = AccessLogEntry
    head = (
        select(log.id)
        .where(log.id <= watermark(connection))
        .order_by(log.id)
        .limit(batch)
        .scalar_subquery()
    )
    result = connection.execute(delete(log).where(log.id.in_(head), log.decided_at < before))
    drop_tallies_before(connection, before)
    return int(result.rowcount)
