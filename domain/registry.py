"""The registry's rules: what a registration must hold, how a key's status follows from the
measures a case applies, and what each status permits."""

import re
from collections.abc import Collection, Sequence

from pydantic import TypeAdapter, ValidationError

from domain.activity_io import KeyMeasure
from domain.alerts import ExchangeId, KeyId
from domain.keys import KeyStatus, Permission

# Only a digest may be stored, never the secret: "<algorithm>:<64 hex digits>".
SECRET_HASH_PATTERN = re.compile(r"(sha256|hmac-sha256):[0-9a-f]{64}")
_KEY_ID = TypeAdapter(KeyId)
_EXCHANGE = TypeAdapter(ExchangeId)

# A restricted key can still be read from, so its owner can see positions and withdraw nothing.
_RESTRICTED_KEEPS = frozenset({Permission.READ})

_OPEN = frozenset({KeyStatus.ACTIVE, KeyStatus.MONITORED, KeyStatus.RESTRICTED})

# measure -> (statuses it applies to, status it leads to)
_TRANSITIONS: dict[KeyMeasure, tuple[frozenset[KeyStatus], KeyStatus]] = {
    KeyMeasure.MONITOR: (frozenset({KeyStatus.ACTIVE}), KeyStatus.MONITORED),
    KeyMeasure.UNFLAG: (frozenset({KeyStatus.MONITORED, KeyStatus.RESTRICTED}), KeyStatus.ACTIVE),
    KeyMeasure.RESTRICT: (frozenset({KeyStatus.ACTIVE, KeyStatus.MONITORED}), KeyStatus.RESTRICTED),
    KeyMeasure.RESTORE: (frozenset({KeyStatus.MONITORED, KeyStatus.RESTRICTED}), KeyStatus.ACTIVE),
    KeyMeasure.EXPIRE: (_OPEN, KeyStatus.EXPIRED),
}


def status_after(current: KeyStatus, measure: KeyMeasure) -> KeyStatus:
    """The status after `measure`; unchanged when it does not apply (expiry is final).

    Monitoring never loosens a restriction, and nothing leaves EXPIRED.
    """
    applies_to, target = _TRANSITIONS[measure]
    return target if current in applies_to else current


def usable_permissions(granted: Collection[Permission], status: KeyStatus) -> list[Permission]:
    """The granted permissions the key may use in `status`, in their canonical order."""
    if status is KeyStatus.EXPIRED:
        return []
    keep = _RESTRICTED_KEEPS if status is KeyStatus.RESTRICTED else frozenset(granted)
    return [p for p in Permission if p in granted and p in keep]


class KeyConflict(ValueError):
    """The request contradicts what the registry holds (another registration, an expired key)."""


def check_registration(
    key_id: str, exchange: str, permissions: Sequence[str], secret_hash: str | None
) -> list[Permission]:
    """The granted permissions in canonical order; ValueError for an unusable registration."""
    try:
        _KEY_ID.validate_python(key_id)
        _EXCHANGE.validate_python(exchange)
    except ValidationError as error:
        raise ValueError(f"invalid key id or exchange: {key_id!r}, {exchange!r}") from error
    if secret_hash is not None and not SECRET_HASH_PATTERN.fullmatch(secret_hash):
        raise ValueError("secret_hash must be 'sha256:<hex>' or 'hmac-sha256:<hex>', not a secret")
    granted = {Permission(p) for p in permissions}
    if not granted:
        raise ValueError("a key needs at least one permission")
    return [p for p in Permission if p in granted]


def check_reregistration(
    key_id: str, registered: tuple[object, ...], asked: tuple[object, ...]
) -> None:
    """Registering a key again changes nothing when the facts agree; else KeyConflict."""
    if registered != asked:
        raise KeyConflict(f"key {key_id} is already registered differently")


def check_whitelist_change(key_id: str, status: KeyStatus) -> None:
    """An expired key's whitelist no longer matters: expiry cannot be undone."""
    if status is KeyStatus.EXPIRED:
        raise KeyConflict(f"key {key_id} is expired; expiry cannot be undone")
