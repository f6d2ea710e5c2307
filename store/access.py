"""The gateway's question answered from the registry, with every answer kept in the access log.

    views = KeyViews(engine)                             # the API's reader, made at startup
    decision, entry = await decide_access(views, key_id, ip, permission)  # a read only
    writer.submit(entry)                                 # store.access_writer, batched
    decision = await authorize(session, key_id, ip, permission)   # or log in-line, then commit
    entries = await access_entries(session, key_id, since)         # for key-sharing detection

One primary-key read (no ORM object, no write lock), the pure `domain.gateway.decide`.
The key is read on every question, never cached: a key is denied the moment it expires.
"""

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from domain.detection.networks import network_of
from domain.gateway import GatewayDecision, GatewayReason, KeyView, decide
from domain.keys import KeyStatus, Permission
from store.loop_sqlite import sqlite_file
from store.models import AccessLogEntry, ApiKey

_IP_COLUMN = AccessLogEntry.__table__.c.ip.type.length or 64  # type: ignore[attr-defined]

# Built once: the gateway path runs this for every request.
_VIEW_QUERY = select(
    ApiKey.account_id,
    ApiKey.status,
    ApiKey.permissions,
    ApiKey.allowed_ips,
    ApiKey.expires_at,
).where(ApiKey.key_id == bindparam("key_id"))


class KeyViews:
    """The gateway's reads of the registry, fresh on every call; close() when done.

    A SQLAlchemy read costs about 0.3 ms (Core) to 0.6 ms (session) of CPU, most of a
    gateway request. On a SQLite file the key is read instead from one plain sqlite3
    connection in the calling (event-loop) thread: a primary-key lookup takes a few
    microseconds, less than handing it to a thread. In autocommit mode every SELECT
    is its own read transaction, ended by fetching to the end, so each read sees the
    last commit of any process. WAL readers never wait for writers; should SQLite
    still answer busy (recovery, a restarting checkpoint), the read goes through the
    engine rather than blocking the loop. Other backends always use the engine.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sqlite = _sqlite_reader(engine)
        dialect = engine.dialect
        self._sql = str(_VIEW_QUERY.compile(dialect=dialect))
        # The columns' own SQLAlchemy decoders (JSON, UTC datetimes), as the engine applies them.
        self._decoders = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in _VIEW_QUERY.selected_columns
        ]

    async def get(self, key_id: str) -> KeyView | None:
        """The key as the registry holds it now, or None."""
        if self._sqlite is not None:
            try:
                rows = self._sqlite.execute(self._sql, (key_id,)).fetchall()
            except sqlite3.OperationalError:
                pass  # busy: the engine's connection waits in its own thread
            else:
                return _view(key_id, self._decoded(rows[0])) if rows else None
        async with self._engine.connect() as connection:
            return await load_view(connection, key_id)

    def close(self) -> None:
        """Close the SQLite connection (the engine is the caller's)."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    def _decoded(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            value if decode is None or value is None else decode(value)
            for decode, value in zip(self._decoders, row, strict=True)
        )


def _sqlite_reader(engine: AsyncEngine) -> sqlite3.Connection | None:
    """A read-only autocommit connection to the engine's SQLite file, or None."""
    path = sqlite_file(engine)
    if path is None:
        return None
    # timeout=0: a busy database raises at once instead of sleeping in the event loop.
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    connection.execute("PRAGMA query_only=ON")
    return connection


def _view(key_id: str, row: Any) -> KeyView:
    account_id, status, permissions, allowed_ips, expires_at = row
    return KeyView(
        key_id=key_id,
        account_id=account_id,
        status=KeyStatus(status),
        permissions=tuple(Permission(p) for p in permissions),
        allowed_ips=tuple(allowed_ips),
        expires_at=expires_at,
    )


async def load_view(reader: AsyncSession | AsyncConnection, key_id: str) -> KeyView | None:
    """The gateway's view of one key, read through SQLAlchemy without building an ORM object."""
    row = (await reader.execute(_VIEW_QUERY, {"key_id": key_id})).first()
    return None if row is None else _view(key_id, row)


async def decide_access(
    reader: KeyViews | AsyncSession | AsyncConnection,
    key_id: str,
    ip: str,
    permission: Permission | str,
    now: datetime | None = None,
    user_agent: str | None = None,
    tls_fingerprint: str | None = None,
) -> tuple[GatewayDecision, dict[str, Any]]:
    """The decision and its access-log row, unwritten. Raises ValueError for a bad permission.

    `user_agent` and `tls_fingerprint` are recorded as given: the API bounds and checks them."""
    wanted = Permission(permission)
    now = now or datetime.now(UTC)
    view = await (reader.get(key_id) if isinstance(reader, KeyViews) else load_view(reader, key_id))
    decision = decide(view, ip, wanted, now)
    entry = {
        "key_id": key_id[:100],
        "account_id": view.account_id if view else None,
        "ip": decision.ip[:_IP_COLUMN],
        "permission": wanted.value,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "decided_at": now,
        "user_agent": user_agent,
        "tls_fingerprint": tls_fingerprint,
        "network": None if decision.reason is GatewayReason.INVALID_IP else network_of(decision.ip),
    }
    return decision, entry


async def authorize(
    session: AsyncSession,
    key_id: str,
    ip: str,
    permission: Permission | str,
    now: datetime | None = None,
    user_agent: str | None = None,
    tls_fingerprint: str | None = None,
) -> GatewayDecision:
    """Decide and log the decision in `session`; the caller commits. ValueError: bad permission."""
    decision, entry = await decide_access(
        session, key_id, ip, permission, now, user_agent, tls_fingerprint
    )
    session.add(AccessLogEntry(**entry))
    await session.flush()
    return decision


async def access_entries(
    session: AsyncSession, key_id: str, since: datetime, limit: int = 10_000
) -> list[AccessLogEntry]:
    """The key's logged decisions since `since`, oldest first."""
    query = (
        select(AccessLogEntry)
        .where(AccessLogEntry.key_id == key_id, AccessLogEntry.decided_at >= since)
        .order_by(AccessLogEntry.decided_at, AccessLogEntry.id)
        .limit(limit)
    )
    return list(await session.scalars(query))
