"""The detectors' input: per-minute counts of the access log, kept beside it.

    add_tallies(connection, after_id, through_id)      # rows (after, through] counted
    drop_tallies_before(connection, cutoff)            # retention

`access_key_tallies` counts requests per minute, key, network and decision, and
`access_origin_tallies` per ten minutes, origin (IP or TLS fingerprint) and key, so the
detectors read rows that grow with keys and origins, never with requests. Counting is one
`INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE` per table over a range of access-log
ids, in the caller's transaction. `store.tally_reads` reads them back per window.
"""

from datetime import datetime
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
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

from domain.detection.policy import KEY_BUCKET, ORIGIN_BUCKET
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
