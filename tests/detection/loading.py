"""Labelled patterns put into a store: keys registered, requests decided and logged."""

from functools import partial

from sqlalchemy import Connection

from store.access import decide_access, key_view, record_access
from store.accounts import upsert_account
from store.port import Store
from store.registry import register_key
from tests.detection.patterns import Pattern


def _register(connection: Connection, patterns: list[Pattern]) -> None:
    for account_id in sorted({k.account_id for p in patterns for k in p.keys}):
        upsert_account(
            connection, account_id=account_id, email="owner@example.com", phone="+821012345678"
        )
    for pattern in patterns:
        for key in pattern.keys:
            register_key(
                connection,
                key_id=key.key_id,
                account_id=key.account_id,
                exchange="upbit",
                permissions=["read", "trade"],
                allowed_ips=key.allowed_ips,
            )


async def register(store: Store, patterns: list[Pattern]) -> None:
    """Each pattern's accounts and keys, as an admin registers them."""
    await store.write(partial(_register, patterns=patterns))


async def replay_requests(store: Store, patterns: list[Pattern]) -> int:
    """Every request decided by the real gateway rule and logged, in time order."""
    requests = sorted((r for p in patterns for r in p.requests), key=lambda r: r.at)
    key_ids = sorted({r.key_id for r in requests})
    views = await store.read(lambda c: {key_id: key_view(c, key_id) for key_id in key_ids})
    entries = [
        decide_access(
            views[r.key_id], r.key_id, r.ip, r.permission, r.at, r.user_agent, r.tls_fingerprint
        )[1]
        for r in requests
    ]
    await store.write(partial(record_access, rows=entries))
    return len(entries)
