"""The key registry: register keys, read them, replace their whitelists.

    record = await store.write(lambda c: register_key(c, key_id=..., account_id=...,
                               exchange="upbit", permissions=["read"], allowed_ips=[...]))
    record = await store.read(lambda c: get_key(c, key_id))             # KeyRecord | None
    record = await store.write(lambda c: replace_allowed_ips(c, key_id, ips))

The rules (what a registration must hold, when it conflicts) are `domain.registry`'s;
whitelists are normalised by `domain.network.normalise_whitelist`.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy import Connection, Row, Select, insert, select, update

from domain.keys import KeyStatus, Permission
from domain.network import WIDEST_PREFIX, normalise_whitelist
from domain.registry import (
    check_registration,
    check_reregistration,
    check_whitelist_change,
    usable_permissions,
)
from domain.registry_audit import key_registered, whitelist_replaced
from store.accounts import get_account
from store.audit import append_facts
from store.key_changes import record_change
from store.models import ApiKey


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
