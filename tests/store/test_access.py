"""The gateway decision from the registry, fresh after any commit, each kept in the access log."""

import asyncio
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain.gateway import GatewayDecision, GatewayReason
from store.access import access_entries, decide_access, key_view
from store.engine import open_store
from store.models import AccessLogEntry, ApiKey
from store.port import Store
from tests.store.factories import T0, add_key
from tests.store.loop_ticks import LoopTicks


async def _decided(
    store: Store,
    ip: str,
    permission: str = "read",
    key_id: str = "key-1",
    now: datetime = T0,
    user_agent: str | None = None,
    tls_fingerprint: str | None = None,
) -> tuple[GatewayDecision, dict[str, Any]]:
    view = await store.read(lambda c: key_view(c, key_id))
    return decide_access(view, key_id, ip, permission, now, user_agent, tls_fingerprint)


async def _authorize(store: Store, key_id: str, ip: str, permission: str) -> GatewayReason:
    decision, entry = await _decided(store, ip, permission, key_id)
    store.log_access(entry)
    return decision.reason


async def _change_key(store: Store, **values: object) -> None:
    await store.write(
        lambda c: c.execute(update(ApiKey).where(ApiKey.key_id == "key-1").values(**values))
    )


async def _logged(store: Store, key_id: str = "key-1", since: datetime = T0) -> list[Any]:
    return await store.read(lambda c: access_entries(c, key_id, since))


async def test_decisions_follow_registry_and_are_logged(store: Store) -> None:
    await add_key(store, allowed_ips=["203.0.113.0/24"], permissions=["read", "trade"])
    cases = [
        ("key-1", "::ffff:203.0.113.9", "trade", GatewayReason.ALLOWED),
        ("key-1", "203.0.114.1", "read", GatewayReason.IP_NOT_WHITELISTED),
        ("key-1", "203.0.113.9", "withdraw", GatewayReason.PERMISSION_RESTRICTED),
        ("key-1", "fe80::1%eth0", "read", GatewayReason.INVALID_IP),
        ("nope", "203.0.113.9", "read", GatewayReason.UNKNOWN_KEY),
    ]
    for key_id, ip, permission, expected in cases:
        assert await _authorize(store, key_id, ip, permission) is expected
    await store.flush()
    logged = await _logged(store, since=T0 - timedelta(seconds=1))
    unknown = await _logged(store, "nope")
    assert [(e.ip, e.permission, e.allowed, e.reason) for e in logged] == [
        ("203.0.113.9", "trade", True, "allowed"),
        ("203.0.114.1", "read", False, "ip_not_whitelisted"),
        ("203.0.113.9", "withdraw", False, "permission_restricted"),
        ("fe80::1%eth0", "read", False, "invalid_ip"),
    ]
    assert {e.account_id for e in logged} == {"acc-1"}
    assert [(e.account_id, e.reason) for e in unknown] == [(None, "unknown_key")]


async def test_key_views_see_another_connections_commit_at_once(store: Store) -> None:
    await add_key(store, allowed_ips=["203.0.113.0/24"])
    before, _ = await _decided(store, "203.0.113.9", "trade")
    await _change_key(store, allowed_ips=["198.51.100.0/24"], expires_at=T0 + timedelta(days=3))
    moved, _ = await _decided(store, "203.0.113.9", "trade")
    assert (await store.read(lambda c: key_view(c, "key-1"))).expires_at == T0 + timedelta(days=3)  # type: ignore[union-attr]
    await _change_key(store, status="RESTRICTED", allowed_ips=["203.0.113.0/24"])
    restricted, _ = await _decided(store, "203.0.113.9", "trade")
    await _change_key(store, status="EXPIRED")
    expired, _ = await _decided(store, "203.0.113.9", "read")

    assert before.reason is GatewayReason.ALLOWED
    assert moved.reason is GatewayReason.IP_NOT_WHITELISTED
    assert restricted.reason is GatewayReason.PERMISSION_RESTRICTED
    assert expired.reason is GatewayReason.EXPIRED
    assert await store.read(lambda c: key_view(c, "nope")) is None


async def test_overlong_garbage_address_is_logged_truncated(store: Store) -> None:
    await add_key(store)
    assert await _authorize(store, "key-1", "x" * 500, "read") is GatewayReason.INVALID_IP
    await store.flush()
    assert await store.read(lambda c: c.scalar(select(AccessLogEntry.ip))) == "x" * 64


async def test_unknown_permission_is_refused_and_not_logged(store: Store) -> None:
    await add_key(store)
    with pytest.raises(ValueError):
        await _decided(store, "203.0.113.9", "admin")
    await store.flush()
    count = select(func.count()).select_from(AccessLogEntry)
    assert await store.read(lambda c: c.scalar(count)) == 0


async def test_access_log_commits_every_queued_row_in_order_on_flush(store: Store) -> None:
    await add_key(store)
    for n in range(20):
        _, entry = await _decided(store, f"203.0.113.{n}", now=T0 + timedelta(seconds=n))
        store.log_access(entry)
    await store.flush()
    assert [e.ip for e in await _logged(store)] == [f"203.0.113.{n}" for n in range(20)]


async def test_access_log_rows_read_back_exactly_as_decided(store: Store) -> None:
    await add_key(store, allowed_ips=["203.0.113.0/24"], permissions=["read"])
    allowed = await _decided(
        store,
        "203.0.113.9",
        "read",
        user_agent="bot/1",
        tls_fingerprint="t13d1516h2_8daaf6152771_b186095e22b6",
    )
    unknown = await _decided(store, "203.0.113.9", "trade", key_id="nope")
    for _, entry in (allowed, unknown):
        store.log_access(entry)
    await store.flush()
    logged = [*await _logged(store), *await _logged(store, "nope")]
    columns = (
        *("key_id", "account_id", "ip", "permission", "allowed", "reason", "decided_at"),
        *("user_agent", "tls_fingerprint", "network"),
    )
    assert [{c: getattr(e, c) for c in columns} for e in logged] == [allowed[1], unknown[1]]
    assert (logged[0].user_agent, logged[0].network) == ("bot/1", "203.0.113.0/24")
    assert logged[0].decided_at == T0 and logged[0].decided_at.tzinfo is not None


async def test_access_log_is_written_within_its_interval_without_being_asked(store: Store) -> None:
    await add_key(store)
    _, entry = await _decided(store, "203.0.113.9")
    store.log_access(entry)
    for _ in range(200):
        if await _logged(store):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the queued row was never written")


async def test_closing_the_store_writes_the_access_log_still_queued(
    store: Store, database_url: str
) -> None:
    await add_key(store)
    other = open_store(database_url)
    for n in range(3):
        _, entry = await _decided(store, f"203.0.113.{n}")
        other.log_access(entry)
    await other.close()
    assert len(await _logged(store)) == 3


async def test_reads_do_not_hold_the_event_loop_while_sqlite_is_locked(
    store: Store, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite is read in the event loop")
    await add_key(store)
    await store.close()  # no connection keeps the file in WAL mode
    path = database_url.split("///", 1)[1]
    reopened = open_store(database_url)  # connects on first use
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # readers of a rollback-journal file now get "busy"
    asyncio.get_running_loop().call_later(0.3, holder.execute, "COMMIT")
    try:
        async with LoopTicks(0.01) as ticks:
            read = await reopened.read(lambda c: key_view(c, "key-1"))
    finally:
        await reopened.close()
        holder.close()

    assert read is not None and read.account_id == "acc-1"
    assert ticks.count >= 10  # the loop kept running while the read waited for the lock
