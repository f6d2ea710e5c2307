"""The gateway's reads of the registry and the access log its answers leave behind.

    view = await store.read(lambda c: key_view(c, key_id))     # KeyView | None, fresh
    decision, entry = decide_access(view, key_id, ip, permission, now)
    store.log_access(entry)                                    # record_access, batched
    entries = await store.read(lambda c: access_entries(c, key_id, since))
    recorded = await store.write(lambda c: record_report(c, batch_id, decisions, now))

One primary-key read (no ORM object, no write lock), the pure `domain.gateway.decide`.
The key is read on every question, never cached: a key is denied the moment it expires.

Decisions a gateway client made in process come in batches (`record_report`). A batch is
recorded once: its id is kept (`access_reports`) in the transaction that writes its rows,
so a client that resends a batch it got no answer for adds no second row. The account
of each row is the registry's, never the client's word.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, bindparam, insert, select

from domain.detection.networks import network_of
from domain.gateway import GatewayDecision, GatewayReason, KeyView, decide
from domain.keys import KeyStatus, Permission
from store.models import AccessLogEntry, AccessReport, ApiKey

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


class Owner(NamedTuple):
    account_id: str
    exchange: str


def owners_of(connection: Connection, key_ids: Iterable[str]) -> dict[str, Owner]:
    """The registered keys among `key_ids`, with their account and exchange."""
    wanted = sorted(set(key_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        select(ApiKey.key_id, ApiKey.account_id, ApiKey.exchange).where(ApiKey.key_id.in_(wanted))
    )
    return {key_id: Owner(account_id, exchange) for key_id, account_id, exchange in rows}


def record_report(
    connection: Connection, batch_id: str, decisions: list[dict[str, Any]], now: datetime
) -> bool:
    """Write the batch's rows (access-log columns but account_id); False if already recorded."""
    seen = select(AccessReport.batch_id).where(AccessReport.batch_id == batch_id)
    if connection.scalar(seen) is not None:
        return False
    owners = owners_of(connection, (d["key_id"] for d in decisions))
    rows = []
    for d in decisions:
        owner = owners.get(d["key_id"])
        # As decide_access does for authorize's rows: detection counts networks.
        network = None if d["reason"] == GatewayReason.INVALID_IP else network_of(d["ip"])
        rows.append({**d, "account_id": owner.account_id if owner else None, "network": network})
    record_access(connection, rows)
    connection.execute(
        insert(AccessReport).values(batch_id=batch_id, decisions=len(decisions), received_at=now)
    )
    return True
