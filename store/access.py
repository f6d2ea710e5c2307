"""The gateway's question answered from the registry, with every answer kept in the access log.

    decision, entry = await decide_access(session, key_id, ip, permission)  # a read only
    writer.submit(entry)                                 # store.access_writer, batched
    decision = await authorize(session, key_id, ip, permission)   # or log in-line, then commit
    entries = await access_entries(session, key_id, since)         # for key-sharing detection

One primary-key read (Core, no ORM object, no write lock), the pure `domain.gateway.decide`.
The key is read on every question, never cached: a key is denied the moment it expires.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.gateway import GatewayDecision, KeyView, decide
from domain.keys import KeyStatus, Permission
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


async def load_view(reader: AsyncSession | AsyncConnection, key_id: str) -> KeyView | None:
    """The gateway's view of one key, read without building an ORM object."""
    row = (await reader.execute(_VIEW_QUERY, {"key_id": key_id})).first()
    if row is None:
        return None
    return KeyView(
        key_id=key_id,
        account_id=row.account_id,
        status=KeyStatus(row.status),
        permissions=tuple(Permission(p) for p in row.permissions),
        allowed_ips=tuple(row.allowed_ips),
        expires_at=row.expires_at,
    )


async def decide_access(
    reader: AsyncSession | AsyncConnection,
    key_id: str,
    ip: str,
    permission: Permission | str,
    now: datetime | None = None,
) -> tuple[GatewayDecision, dict[str, Any]]:
    """The decision and its access-log row, unwritten. Raises ValueError for a bad permission."""
    wanted = Permission(permission)
    now = now or datetime.now(UTC)
    view = await load_view(reader, key_id)
    decision = decide(view, ip, wanted, now)
    entry = {
        "key_id": key_id[:100],
        "account_id": view.account_id if view else None,
        "ip": decision.ip[:_IP_COLUMN],
        "permission": wanted.value,
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "decided_at": now,
    }
    return decision, entry


async def authorize(
    session: AsyncSession,
    key_id: str,
    ip: str,
    permission: Permission | str,
    now: datetime | None = None,
) -> GatewayDecision:
    """Decide and log the decision in `session`; the caller commits. ValueError: bad permission."""
    decision, entry = await decide_access(session, key_id, ip, permission, now)
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
