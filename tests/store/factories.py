"""Small builders for store tests: an account with a key, audit facts."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from domain.activity_io import AuditFact
from store.accounts import upsert_account
from store.port import Store
from store.registry import KeyRecord, register_key

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def add_key(
    store: Store,
    key_id: str = "key-1",
    allowed_ips: list[str] | None = None,
    permissions: list[str] | None = None,
    account_id: str = "acc-1",
) -> KeyRecord:
    """Register an account and one key on it, committed."""

    def work(connection: Connection) -> KeyRecord:
        upsert_account(
            connection, account_id=account_id, email="owner@example.com", phone="+821012345678"
        )
        return register_key(
            connection,
            key_id=key_id,
            account_id=account_id,
            exchange="upbit",
            permissions=permissions or ["read", "trade", "withdraw"],
            allowed_ips=allowed_ips if allowed_ips is not None else ["203.0.113.0/24"],
            now=T0,
        )

    return await store.write(work)


def fact(event_id: str, event_type: str = "alert.received", **payload: Any) -> AuditFact:
    """One audit fact about key-1's case."""
    return AuditFact(
        event_id=event_id,
        event_type=event_type,
        case_id="key-1.run-1",
        key_id="key-1",
        occurred_at=T0,
        payload=payload,
    )
