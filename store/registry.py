"""The key registry: register keys, read them, replace their whitelists.

    record = await register_key(session, key_id=..., account_id=..., exchange="upbit",
                                permissions=["read", "trade"], allowed_ips=["203.0.113.7"])
    record = await get_key(session, key_id)                      # KeyRecord | None
    record = await replace_allowed_ips(session, key_id, ips)     # raises InvalidWhitelist

Each function works inside the caller's transaction; the caller commits. Whitelists
are normalised by `domain.network.normalise_whitelist`, whose error names every bad entry.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.alerts import ExchangeId, KeyId
from domain.keys import KeyStatus, Permission
from domain.network import WIDEST_PREFIX, normalise_whitelist
from domain.registry import usable_permissions
from store.models import Account, ApiKey

_KEY_ID = TypeAdapter(KeyId)
# Only a digest may be stored, never the secret: "<algorithm>:<64 hex digits>".
SECRET_HASH_PATTERN = re.compile(r"(sha256|hmac-sha256):[0-9a-f]{64}")
_EXCHANGE = TypeAdapter(ExchangeId)


class UnknownKey(LookupError):
    """No key with this id is registered."""


class UnknownAccount(LookupError):
    """A key names an account that is not registered."""


class KeyConflict(ValueError):
    """The request contradicts what the registry holds (another registration, an expired key)."""


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


def _permissions(values: list[str] | list[Permission]) -> list[Permission]:
    granted = {Permission(v) for v in values}
    if not granted:
        raise ValueError("a key needs at least one permission")
    return [p for p in Permission if p in granted]


def record_of(key: ApiKey) -> KeyRecord:
    """The read model of a registry row."""
    status = KeyStatus(key.status)
    granted = [Permission(p) for p in key.permissions]
    return KeyRecord(
        key_id=key.key_id,
        account_id=key.account_id,
        exchange=key.exchange,
        status=status,
        permissions=granted,
        usable_permissions=usable_permissions(granted, status),
        allowed_ips=list(key.allowed_ips),
        expires_at=key.expires_at,
        expired_at=key.expired_at,
        created_at=key.created_at,
        updated_at=key.updated_at,
    )


async def register_key(
    session: AsyncSession,
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
) -> KeyRecord:
    """Register a key; registering the same key again with the same facts changes nothing."""
    try:
        _KEY_ID.validate_python(key_id)
        _EXCHANGE.validate_python(exchange)
    except ValidationError as error:
        raise ValueError(f"invalid key id or exchange: {key_id!r}, {exchange!r}") from error
    if secret_hash is not None and not SECRET_HASH_PATTERN.fullmatch(secret_hash):
        raise ValueError("secret_hash must be 'sha256:<hex>' or 'hmac-sha256:<hex>', not a secret")
    granted = [p.value for p in _permissions(permissions)]
    whitelist = normalise_whitelist(allowed_ips, widest)
    existing = await session.get(ApiKey, key_id)
    if existing is not None:
        same = (existing.account_id, existing.exchange, existing.permissions, existing.allowed_ips)
        if same != (account_id, exchange, granted, whitelist):
            raise KeyConflict(f"key {key_id} is already registered differently")
        return record_of(existing)
    if await session.get(Account, account_id) is None:
        raise UnknownAccount(f"account {account_id} is not registered")
    now = now or datetime.now(UTC)
    key = ApiKey(
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
    session.add(key)
    await session.flush()
    return record_of(key)


async def get_key(session: AsyncSession, key_id: str) -> KeyRecord | None:
    """The key, or None."""
    key = await session.get(ApiKey, key_id)
    return record_of(key) if key else None


async def replace_allowed_ips(
    session: AsyncSession,
    key_id: str,
    allowed_ips: list[str],
    now: datetime | None = None,
    widest: Mapping[int, int] = WIDEST_PREFIX,
) -> KeyRecord:
    """Replace the whitelist (validated first); an expired key's whitelist no longer matters."""
    whitelist = normalise_whitelist(allowed_ips, widest)
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise UnknownKey(f"key {key_id} is not registered")
    if key.status == KeyStatus.EXPIRED:
        raise KeyConflict(f"key {key_id} is expired; expiry cannot be undone")
    if key.allowed_ips != whitelist:
        key.allowed_ips, key.updated_at = whitelist, now or datetime.now(UTC)
        await session.flush()
    return record_of(key)
