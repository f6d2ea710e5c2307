"""Audit facts of registry changes made outside a case: keys registered, whitelists
replaced, accounts' contacts changed (that they changed, never what they are).

Each fact is written in the transaction of its change, so a repeated request that
changes nothing records nothing."""

from collections.abc import Sequence
from datetime import datetime

from domain.activity_io import AuditFact


class RegistryEvent:
    """Event type names of registry facts; stored in every row, so never renamed."""

    KEY_REGISTERED = "key.registered"
    KEY_WHITELIST_REPLACED = "key.whitelist_replaced"
    ACCOUNT_CONTACTS_CHANGED = "account.contacts_changed"
    ACCOUNT_ERASED = "account.erased"


def account_subject(account_id: str) -> str:
    """What an account's facts carry in the chain's key column (they concern no key)."""
    return f"account:{account_id}"


def key_registered(
    key_id: str,
    account_id: str,
    exchange: str,
    permissions: Sequence[str],
    allowed_ips: Sequence[str],
    actor: str,
    at: datetime,
) -> AuditFact:
    """A key entered the registry (once: a key id is registered only once)."""
    return AuditFact(
        event_id=f"registry:{key_id}:registered",
        event_type=RegistryEvent.KEY_REGISTERED,
        key_id=key_id,
        actor=actor,
        occurred_at=at,
        payload={
            "before": None,
            "after": {
                "account_id": account_id,
                "exchange": exchange,
                "permissions": list(permissions),
                "allowed_ips": list(allowed_ips),
            },
        },
    )


def whitelist_replaced(
    key_id: str, before: Sequence[str], after: Sequence[str], actor: str, at: datetime
) -> AuditFact:
    """A key's whitelist changed from `before` to `after`."""
    return AuditFact(
        event_id=f"registry:{key_id}:whitelist:{at.isoformat()}",
        event_type=RegistryEvent.KEY_WHITELIST_REPLACED,
        key_id=key_id,
        actor=actor,
        occurred_at=at,
        payload={"before": list(before), "after": list(after)},
    )


def contacts_changed(
    account_id: str, changed: Sequence[str], created: bool, actor: str, at: datetime
) -> AuditFact:
    """Which contact fields of an account changed (names of fields, never their values)."""
    return AuditFact(
        event_id=f"registry:{account_id}:contacts:{at.isoformat()}",
        event_type=RegistryEvent.ACCOUNT_CONTACTS_CHANGED,
        key_id=account_subject(account_id),
        actor=actor,
        occurred_at=at,
        payload={"account_id": account_id, "created": created, "fields": sorted(changed)},
    )


def account_erased(
    account_id: str, key_ids: Sequence[str], cases: int, actor: str, at: datetime
) -> AuditFact:
    """An account's contacts were erased (once per account): its id and keys, no contacts."""
    return AuditFact(
        event_id=f"registry:{account_id}:erased",
        event_type=RegistryEvent.ACCOUNT_ERASED,
        key_id=account_subject(account_id),
        actor=actor,
        occurred_at=at,
        payload={"account_id": account_id, "keys": sorted(key_ids), "closed_cases": cases},
    )
