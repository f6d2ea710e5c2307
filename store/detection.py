"""The detection sweep's store: the access log's tallies, their reads, where the sweep stands.

    add_tallies(connection, after_id, through_id)      # rows (after, through] counted
    drop_tallies_before(connection, cutoff)            # retention

`access_key_tallies` counts requests per minute, key, network and decision, and
`access_origin_tallies` per ten minutes, origin (IP or TLS fingerprint) and key, so the
detectors read rows that grow with keys and origins, never with requests. Counting is one
`INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` per table over a range of access-log
ids, in the caller's transaction.

The tallies read back for the detectors: summed per half window (a slice) in SQL, and
only for the subjects that can reach the detector's threshold in the range read.

    tallies = key_tallies(connection, window, slices, min_networks=3)   # one query per chunk

Where the detection sweep stands: the access log counted up to a watermark, and the time
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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    String,
    case,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from domain.detection.policy import KEY_BUCKET, ORIGIN_BUCKET
from domain.detection.tallies import Tally
from domain.detection.windows import slice_seconds
from store.models import AccessLogEntry, Base, UTCDateTime, insert_into


class _Counts:
    account_id: Mapped[str | None] = mapped_column(String(100))
    hits: Mapped[int] = mapped_column(BigInteger)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KeyTallyRow(_Counts, Base):
    """Requests of one key from one network with one decision, in one minute."""

    __tablename__ = "access_key_tallies"

    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch minute
    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)


class OriginTallyRow(_Counts, Base):
    """Requests of one key from one IP (`ip`) or TLS fingerprint (`tls`), in ten minutes."""

    __tablename__ = "access_origin_tallies"

    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch ten minutes
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    origin: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(100), primary_key=True)


class _EpochSeconds(FunctionElement[int]):
    """Whole seconds since 1970 of a UTC timestamp column, on either backend."""

    type = BigInteger()
    inherit_cache = True


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(_EpochSeconds, "postgresql")
def _epoch_postgresql(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(extract(epoch FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


_LOG = AccessLogEntry.__table__.c
_COUNT_COLUMNS = ["account_id", "hits", "first_id", "last_id", "first_at", "last_at"]


def _counted() -> list[ColumnElement[Any]]:
    return [
        func.max(_LOG.account_id),
        func.count(),
        func.min(_LOG.id),
        func.max(_LOG.id),
        func.min(_LOG.decided_at),
        func.max(_LOG.decided_at),
    ]


def _upsert(
    connection: Connection, model: type[_Counts], keys: list[str], source: Select[Any]
) -> None:
    statement = insert_into(connection.dialect.name, model).from_select(  # type: ignore[arg-type]
        [*keys, *_COUNT_COLUMNS], source
    )
    new, table = statement.excluded, model.__table__  # type: ignore[attr-defined]
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={
            "account_id": func.coalesce(table.c.account_id, new.account_id),
            "hits": table.c.hits + new.hits,
            "last_id": case((new.last_id > table.c.last_id, new.last_id), else_=table.c.last_id),
            "first_at": case(
                (new.first_at < table.c.first_at, new.first_at), else_=table.c.first_at
            ),
            "last_at": case((new.last_at > table.c.last_at, new.last_at), else_=table.c.last_at),
        },
    )
    connection.execute(statement)


def add_tallies(connection: Connection, after_id: int, through_id: int) -> None:
    """Count the access-log rows with ids in (after_id, through_id] into both tables."""
    for model, keys, counts in tally_queries(after_id, through_id):
        _upsert(connection, model, keys, counts)


def tally_queries(
    after_id: int, through_id: int
) -> list[tuple[type[_Counts], list[str], Select[Any]]]:
    """The GROUP BY queries behind `add_tallies`: (table, its key columns, the query)."""
    in_range = (_LOG.id > after_id, _LOG.id <= through_id)
    seconds = _EpochSeconds(_LOG.decided_at)
    minute = (seconds // int(KEY_BUCKET.total_seconds())).label("bucket")
    per_key = (
        select(minute, _LOG.key_id, _LOG.network, _LOG.reason, *_counted())
        .where(*in_range, _LOG.network.is_not(None))
        .group_by(minute, _LOG.key_id, _LOG.network, _LOG.reason)
    )
    queries: list[tuple[type[_Counts], list[str], Select[Any]]] = [
        (KeyTallyRow, ["bucket", "key_id", "network", "reason"], per_key)
    ]
    ten = (seconds // int(ORIGIN_BUCKET.total_seconds())).label("bucket")
    known = (*in_range, _LOG.account_id.is_not(None))
    origins = {
        "ip": (_LOG.ip, _LOG.network.is_not(None)),
        "tls": (_LOG.tls_fingerprint, _LOG.tls_fingerprint.is_not(None)),
    }
    for kind, (origin, present) in origins.items():
        per_origin = (
            select(ten, literal(kind).label("kind"), origin, _LOG.key_id, *_counted())
            .where(*known, present)
            .group_by(ten, origin, _LOG.key_id)
        )
        queries.append((OriginTallyRow, ["bucket", "kind", "origin", "key_id"], per_origin))
    return queries


def drop_tallies_before(connection: Connection, before: datetime) -> None:
    """Forget the counts of minutes before `before` (retention)."""
    seconds = int(before.timestamp())
    for model, size in ((KeyTallyRow, KEY_BUCKET), (OriginTallyRow, ORIGIN_BUCKET)):
        connection.execute(delete(model).where(model.bucket < seconds // int(size.total_seconds())))


def _slice_of(bucket: Any, window: timedelta, size: timedelta) -> ColumnElement[int]:
    per_slice = slice_seconds(window) // int(size.total_seconds())
    return (bucket // per_slice).label("slice")  # type: ignore[no-any-return]


def _bucket_range(
    bucket: Any, window: timedelta, size: timedelta, slices: range
) -> tuple[Any, ...]:
    per_slice = slice_seconds(window) // int(size.total_seconds())
    return (bucket >= slices.start * per_slice, bucket < slices.stop * per_slice)


def _tallies(connection: Connection, statement: Select[Any]) -> list[Tally]:
    return [Tally(*row) for row in connection.execute(statement)]


def _sums(table: Any) -> list[ColumnElement[Any]]:
    return [
        func.max(table.c.account_id),
        func.sum(table.c.hits),
        func.min(table.c.first_id),
        func.max(table.c.last_id),
        func.min(table.c.first_at, type_=UTCDateTime()),
        func.max(table.c.last_at, type_=UTCDateTime()),
    ]


def key_tallies(
    connection: Connection,
    window: timedelta,
    slices: range,
    *,
    min_networks: int | None = None,
    denials_of: str | None = None,
    min_denials: int | None = None,
) -> list[Tally]:
    """Per-slice tallies of keys from any network (`min_networks`) or with one reason's
    denials (`denials_of`, `min_denials`), for the keys that reach the threshold in `slices`."""
    t = KeyTallyRow.__table__
    where = [*_bucket_range(t.c.bucket, window, KEY_BUCKET, slices)]
    if denials_of is not None:
        where.append(t.c.reason == denials_of)
    enough = (
        func.count(t.c.network.distinct()) >= (min_networks or 1)
        if denials_of is None
        else func.sum(t.c.hits) >= (min_denials or 1)
    )
    candidates = select(t.c.key_id).where(*where).group_by(t.c.key_id).having(enough)
    slice_ = _slice_of(t.c.bucket, window, KEY_BUCKET)
    denied = func.sum(case((t.c.reason == "allowed", 0), else_=t.c.hits))
    statement = (
        select(slice_, t.c.key_id, *_sums(t)[:1], t.c.network, *_sums(t)[1:], denied)
        .where(*where, t.c.key_id.in_(candidates.scalar_subquery()))
        .group_by(slice_, t.c.key_id, t.c.network)
    )
    return _tallies(connection, statement)


def origin_tallies(
    connection: Connection,
    window: timedelta,
    slices: range,
    *,
    kinds: tuple[str, ...],
    min_accounts: int,
) -> list[Tally]:
    """Per-slice tallies of keys behind the origins used with `min_accounts` accounts or more."""
    t = OriginTallyRow.__table__
    where = [*_bucket_range(t.c.bucket, window, ORIGIN_BUCKET, slices), t.c.kind.in_(kinds)]
    candidates = (
        select(t.c.kind, t.c.origin)
        .where(*where)
        .group_by(t.c.kind, t.c.origin)
        .having(func.count(t.c.account_id.distinct()) >= min_accounts)
        .subquery()
    )
    slice_ = _slice_of(t.c.bucket, window, ORIGIN_BUCKET)
    facet = (t.c.kind + literal(":") + t.c.origin).label("facet")
    statement = (
        select(slice_, t.c.key_id, *_sums(t)[:1], facet, *_sums(t)[1:], literal(0))
        .join(candidates, (candidates.c.kind == t.c.kind) & (candidates.c.origin == t.c.origin))
        .where(*where)
        .group_by(slice_, t.c.key_id, t.c.kind, t.c.origin)
    )
    return _tallies(connection, statement)


def key_origin_tallies(
    connection: Connection, window: timedelta, slices: range, *, kind: str, min_origins: int
) -> list[Tally]:
    """Per-slice tallies of the keys used from `min_origins` or more origins of one kind."""
    t = OriginTallyRow.__table__
    where = [*_bucket_range(t.c.bucket, window, ORIGIN_BUCKET, slices), t.c.kind == kind]
    candidates = (
        select(t.c.key_id)
        .where(*where)
        .group_by(t.c.key_id)
        .having(func.count(t.c.origin.distinct()) >= min_origins)
    )
    slice_ = _slice_of(t.c.bucket, window, ORIGIN_BUCKET)
    facet = (t.c.kind + literal(":") + t.c.origin).label("facet")
    statement = (
        select(slice_, t.c.key_id, *_sums(t)[:1], facet, *_sums(t)[1:], literal(0))
        .where(*where, t.c.key_id.in_(candidates.scalar_subquery()))
        .group_by(slice_, t.c.key_id, t.c.kind, t.c.origin)
    )
    return _tallies(connection, statement)


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
