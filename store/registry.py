"""The key registry: keys, the measures cases apply to them, the gateways' change feed.

Register keys, read them, replace their whitelists:

    record = await store.write(lambda c: register_key(c, key_id=..., account_id=...,
                               exchange="upbit", permissions=["read"], allowed_ips=[...]))
    record = await store.read(lambda c: get_key(c, key_id))             # KeyRecord | None
    record = await store.write(lambda c: replace_allowed_ips(c, key_id, ips))

The rules (what a registration must hold, when it conflicts) are `domain.registry`'s;
whitelists are normalised by `domain.network.normalise_whitelist`.

Measures a case applies to a key: the status change and its audit facts in one transaction.

    changed = await store.write(lambda c: apply_measure(c, measure_input, now))
    state = await store.read(lambda c: key_state(c, key_id, changed, now))   # read back

Each measure is keyed by its `event_id`: once that row is in the audit log the measure has
been applied, so running it again changes nothing and writes nothing new. The rule (which
status follows) is `domain.registry.status_after`; the facts are `domain.audit_events`'.

The gateways' change feed: every change of a key's gateway view, in commit order.

    seq = record_change(connection, key_id, now)        # in the transaction that changed it
    rows = await store.read(lambda c: changes_since(c, cursor, limit))  # KeyChangeRows
    head = await store.read(feed_head)                  # the last seq committed, 0 if none

Changes take the feed's lock (on PostgreSQL an advisory lock held to commit; SQLite's write
lock is the store's) and number themselves last + 1, so commits land in `seq` order: a
reader that has seen n has seen every change up to n, and a cursor never skips one.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import Connection, Row, Select, func, insert, select, text, update

from domain.activity_io import ApplyKeyMeasureInput, KeyStateResult
from domain.audit_events import key_status
from domain.gateway import KeyView, standing
from domain.keys import KeyStatus, Permission
from domain.network import WIDEST_PREFIX, normalise_whitelist
from domain.registry import (
    check_registration,
    check_reregistration,
    check_whitelist_change,
    status_after,
    usable_permissions,
)
from domain.registry_audit import key_registered, whitelist_replaced
from store.access import key_view
from store.accounts import get_account
from store.audit import append_facts, recorded_event_ids
from store.models import ApiKey, KeyChange


class UnknownKey(LookupError):
    """No key with this id is registered."""


class UnknownAccount(LookupError):
    """A key names an account that is not registered."""


class KeyRecord(BaseModel):
    """A key as officers and the API see it (never its secret hash)."""

    model_config = ConfigDict(frozen=True)

    key_id: str
    account_id: str
    exchange: str
    status: KeyStatus
    permissions: list[Permission]  # as granted
    usable_permissions: list[Permission]  # what the status leaves of them now
    allowed_ips: list[str]
    expires_at: AwareDatetime | None
    expired_at: AwareDatetime | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


_RECORD: tuple[Any, ...] = (
    ApiKey.key_id,
    ApiKey.account_id,
    ApiKey.exchange,
    ApiKey.status,
    ApiKey.permissions,
    ApiKey.allowed_ips,
    ApiKey.expires_at,
    ApiKey.expired_at,
    ApiKey.created_at,
    ApiKey.updated_at,
)


def _key(key_id: str) -> Select[Any]:
    return select(*_RECORD).where(ApiKey.key_id == key_id)


def _record(row: Row[Any]) -> KeyRecord:
    status = KeyStatus(row.status)
    granted = [Permission(p) for p in row.permissions]
    fields = row._asdict()
    fields.update(status=status, permissions=granted)
    return KeyRecord(usable_permissions=usable_permissions(granted, status), **fields)


def register_key(
    connection: Connection,
    *,
    key_id: str,
    account_id: str,
    exchange: str,
    permissions: list[str] | list[Permission],
    allowed_ips: list[str],
    expires_at: datetime | None = None,
    secret_hash: str | None = None,
    now: datetime | None = None,
    widest: Mapping[int, int] = WIDEST_PREFIX,
    actor: str = "keycase",
) -> KeyRecord:
    """Register a key; registering the same key again with the same facts changes nothing.

    The registration is a fact in the audit chain, written in the same transaction."""
    granted = [p.value for p in check_registration(key_id, exchange, permissions, secret_hash)]
    whitelist = normalise_whitelist(allowed_ips, widest)
    existing = connection.execute(_key(key_id)).first()
    if existing is not None:
        registered = (existing.account_id, existing.exchange, existing.permissions)
        asked = (account_id, exchange, granted, whitelist)
        check_reregistration(key_id, (*registered, existing.allowed_ips), asked)
        return _record(existing)
    if get_account(connection, account_id) is None:
        raise UnknownAccount(f"account {account_id} is not registered")
    now = now or datetime.now(UTC)
    row = connection.execute(
        insert(ApiKey)
        .values(
            key_id=key_id,
            account_id=account_id,
            exchange=exchange,
            permissions=granted,
            status=KeyStatus.ACTIVE.value,
            allowed_ips=whitelist,
            expires_at=expires_at,
            secret_hash=secret_hash,
            created_at=now,
            updated_at=now,
        )
        .returning(*_RECORD)
    ).one()
    fact = key_registered(key_id, account_id, exchange, granted, whitelist, actor, now)
    append_facts(connection, [fact], now)
    record_change(connection, key_id, now)
    return _record(row)


def get_key(connection: Connection, key_id: str) -> KeyRecord | None:
    """The key, or None."""
    row = connection.execute(_key(key_id)).first()
    return _record(row) if row else None


def replace_allowed_ips(
    connection: Connection,
    key_id: str,
    allowed_ips: list[str],
    now: datetime | None = None,
    widest: Mapping[int, int] = WIDEST_PREFIX,
    actor: str = "keycase",
) -> KeyRecord:
    """Replace the whitelist (validated first); an expired key's whitelist no longer matters.

    A change (not a repeat) is a fact in the audit chain with the lists before and after."""
    whitelist = normalise_whitelist(allowed_ips, widest)
    key = connection.execute(_key(key_id).with_for_update()).first()
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    check_whitelist_change(key_id, KeyStatus(key.status))
    if key.allowed_ips == whitelist:
        return _record(key)
    now = now or datetime.now(UTC)
    changed = (
        update(ApiKey)
        .where(ApiKey.key_id == key_id)
        .values(allowed_ips=whitelist, updated_at=now)
        .returning(*_RECORD)
    )
    record = _record(connection.execute(changed).one())
    append_facts(
        connection, [whitelist_replaced(key_id, key.allowed_ips, whitelist, actor, now)], now
    )
    record_change(connection, key_id, now)
    return record


def account_exchanges(connection: Connection, account_id: str) -> set[str]:
    """The exchanges the account has keys on (none for an unknown account or one without keys)."""
    query = select(ApiKey.exchange).where(ApiKey.account_id == account_id).distinct()
    return set(connection.scalars(query))


def apply_measure(connection: Connection, request: ApplyKeyMeasureInput, now: datetime) -> bool:
    """Change the key's status, write the request's facts and the change; True if it changed."""
    # FOR UPDATE on PostgreSQL: concurrent attempts of one measure queue on the key's row.
    status = connection.scalar(
        select(ApiKey.status).where(ApiKey.key_id == request.key_id).with_for_update()
    )
    if status is None:
        raise UnknownKey(f"key {request.key_id} is not registered")
    if recorded_event_ids(connection, [request.event_id]):
        append_facts(connection, request.facts, now)  # in case they came without the change
        return False
    before = KeyStatus(status)
    after = status_after(before, request.measure)
    changed = after is not before
    if changed:
        expired = {"expired_at": request.occurred_at} if after is KeyStatus.EXPIRED else {}
        connection.execute(
            update(ApiKey)
            .where(ApiKey.key_id == request.key_id)
            .values(status=after.value, updated_at=now, **expired)
        )
        record_change(connection, request.key_id, now)
    append_facts(connection, [*request.facts, key_status(request, before, after)], now)
    return changed


def key_state(connection: Connection, key_id: str, changed: bool, now: datetime) -> KeyStateResult:
    """What the registry and the gateway say about the key now, read from the database."""
    key = get_key(connection, key_id)
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    view = KeyView(
        key_id=key_id,
        account_id=key.account_id,
        status=key.status,
        permissions=tuple(key.permissions),
        allowed_ips=tuple(key.allowed_ips),
        expires_at=key.expires_at,
        exchange=key.exchange,
    )
    return KeyStateResult(
        key_id=key_id,
        status=key.status,
        permissions=key.usable_permissions,
        allowed_ips=key.allowed_ips,
        expired_at=key.expired_at,
        gateway_reason=standing(view, now).value,
        changed=changed,
    )


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
