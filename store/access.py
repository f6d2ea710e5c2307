"""The gateway's reads of the registry and the access log its answers leave behind.

    view = await store.read(lambda c: key_view(c, key_id))     # KeyView | None, fresh
    decision, entry = decide_access(view, key_id, ip, permission, now)
    store.log_access(entry)                                    # record_access, batched
    entries = await store.read(lambda c: access_entries(c, key_id, since))

One primary-key read (no ORM object, no write lock), the pure `domain.gateway.decide`.
The key is read on every question, never cached: a key is denied the moment it expires.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select

from domain.detection.networks import network_of
from domain.gateway import GatewayDecision, GatewayReason, KeyView, decide
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
    ApiKey.exchange,
).where(ApiKey.key_id == bindparam("key_id"))

_ENTRY_COLUMNS = tuple(c for c in AccessLogEntry.__table__.c if c.name != "id")


def key_view(connection: Connection, key_id: str) -> KeyView | None:
    """The gateway's view of one key as the registry holds it now, or None."""
    row = connection.execute(_VIEW_QUERY, {"key_id": key_id}).first()
    return None if row is None else _view(key_id, row)


def _view(key_id: str, row: Row[str, str, list[str], list[str], datetime | None, str]) -> KeyView:
    account_id, status, permissions, allowed_ips, expires_at, exchange = row
    return KeyView(
        key_id=key_id,
        account_id=account_id,
        status=KeyStatus(status),
        permissions=tuple(Permission(p) for p in permissions),
        allowed_ips=tuple(allowed_ips),
        expires_at=expires_at,
        exchange=exchange,
    )


def decide_access(
    view: KeyView | None,
    key_id: str,
    ip: str,
    permission: Permission | str,
    now: datetime,
    user_agent: str | None = None,
    tls_fingerprint: str | None = None,
) -> tuple[GatewayDecision, dict[str, Any]]:
    """The decision and its access-log row, unwritten. Raises ValueError for a bad permission.

    `user_agent` and `tls_fingerprint` are recorded as given: the API bounds and checks them."""
    wanted = Permission(permission)
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


def record_access(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert access-log rows (as `decide_access` builds them)."""
    if rows:
        connection.execute(insert(AccessLogEntry), rows)


def access_entries(
    connection: Connection, key_id: str, since: datetime, limit: int = 10_000
) -> list[Row[Any]]:
    """The key's logged decisions since `since`, oldest first (rows of the log's columns)."""
    query = (
        select(*_ENTRY_COLUMNS)
        .where(AccessLogEntry.key_id == key_id, AccessLogEntry.decided_at >= since)
        .order_by(AccessLogEntry.decided_at, AccessLogEntry.id)
        .limit(limit)
    )
    return list(connection.execute(query))
