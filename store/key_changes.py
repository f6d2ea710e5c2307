"""The gateways' change feed: every change of a key's gateway view, in commit order.

    seq = record_change(connection, key_id, now)        # in the transaction that changed it
    rows = await store.read(lambda c: changes_since(c, cursor, limit))  # KeyChangeRows
    head = await store.read(feed_head)                  # the last seq committed, 0 if none

Changes take the feed's lock (on PostgreSQL an advisory lock held to commit; SQLite's write
lock is the store's) and number themselves last + 1, so commits land in `seq` order: a
reader that has seen n has seen every change up to n, and a cursor never skips one.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, text

from domain.gateway import KeyView
from domain.keys import KeyStatus, Permission
from store.access import key_view
from store.models import KeyChange

# "keyfeed" in ASCII, as a bigint: one advisory lock for the one feed.
FEED_LOCK_ID = 0x6B6579666565
_HEAD = select(func.max(KeyChange.seq))
_CHANGES = select(*KeyChange.__table__.c)


@dataclass(frozen=True, slots=True)
class KeyChangeRow:
    """One change: its place in the feed, when, and the key's gateway view after it."""

    seq: int
    changed_at: datetime
    view: KeyView


def record_change(connection: Connection, key_id: str, now: datetime) -> int:
    """Append the key's gateway view as it is now in this transaction; returns its seq."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": FEED_LOCK_ID})
    view = key_view(connection, key_id)
    if view is None:
        raise LookupError(f"key {key_id} is not registered")
    seq = (connection.scalar(_HEAD) or 0) + 1
    connection.execute(
        insert(KeyChange).values(
            seq=seq,
            key_id=key_id,
            account_id=view.account_id,
            exchange=view.exchange,
            status=view.status.value,
            permissions=[p.value for p in view.permissions],
            allowed_ips=list(view.allowed_ips),
            expires_at=view.expires_at,
            changed_at=now,
        )
    )
    return seq


def changes_since(connection: Connection, since: int, limit: int = 1000) -> list[KeyChangeRow]:
    """The changes after `since`, oldest first, at most `limit`."""
    query = _CHANGES.where(KeyChange.seq > since).order_by(KeyChange.seq).limit(limit)
    return [_row(change) for change in connection.execute(query)]


def feed_head(connection: Connection) -> int:
    """The last seq committed; 0 for an empty feed."""
    return connection.scalar(_HEAD) or 0


def _row(change: Row[Any]) -> KeyChangeRow:
    view = KeyView(
        key_id=change.key_id,
        account_id=change.account_id,
        status=KeyStatus(change.status),
        permissions=tuple(Permission(p) for p in change.permissions),
        allowed_ips=tuple(change.allowed_ips),
        expires_at=change.expires_at,
        exchange=change.exchange,
    )
    return KeyChangeRow(change.seq, change.changed_at, view)
