"""The tallies read back for the detectors: summed per half window (a slice) in SQL, and
only for the subjects that can reach the detector's threshold in the range read.

    tallies = key_tallies(connection, window, slices, min_networks=3)   # one query per chunk
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, func, literal, select

from domain.detection.policy import KEY_BUCKET, ORIGIN_BUCKET
from domain.detection.tallies import Tally
from domain.detection.windows import slice_seconds
from store.access_tallies import KeyTallyRow, OriginTallyRow
from store.models import UTCDateTime


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
