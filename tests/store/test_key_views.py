"""The gateway's reads of the registry: what the engine reads, and fresh after any commit."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.gateway import GatewayReason
from store.access import KeyViews, decide_access, load_view
from store.models import ApiKey
from tests.store.factories import T0, add_key
from tests.store.loop_ticks import LoopTicks

Sessions = async_sessionmaker[AsyncSession]


@pytest_asyncio.fixture
async def views(sessions: Sessions) -> AsyncIterator[KeyViews]:
    engine = sessions.kw["bind"]
    reader = KeyViews(engine)
    try:
        yield reader
    finally:
        reader.close()


async def _change_key(sessions: Sessions, **values: object) -> None:
    async with sessions() as session:
        await session.execute(update(ApiKey).where(ApiKey.key_id == "key-1").values(**values))
        await session.commit()


async def test_views_read_what_the_engine_reads(sessions: Sessions, views: KeyViews) -> None:
    await add_key(sessions, allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    await _change_key(sessions, expires_at=T0 + timedelta(days=3))

    async with sessions() as session:
        expected = await load_view(session, "key-1")
    read = await views.get("key-1")

    assert expected is not None
    assert read == expected
    assert read.expires_at == T0 + timedelta(days=3)
    assert await views.get("nope") is None


async def test_views_see_another_connections_commit_at_once(
    sessions: Sessions, views: KeyViews
) -> None:
    await add_key(sessions, allowed_ips=["203.0.113.0/24"])
    before, _ = await decide_access(views, "key-1", "203.0.113.9", "trade", now=T0)

    await _change_key(sessions, allowed_ips=["198.51.100.0/24"])
    moved, _ = await decide_access(views, "key-1", "203.0.113.9", "trade", now=T0)
    await _change_key(sessions, status="RESTRICTED", allowed_ips=["203.0.113.0/24"])
    restricted, _ = await decide_access(views, "key-1", "203.0.113.9", "trade", now=T0)
    await _change_key(sessions, status="EXPIRED")
    expired, _ = await decide_access(views, "key-1", "203.0.113.9", "read", now=T0)

    assert before.reason is GatewayReason.ALLOWED
    assert moved.reason is GatewayReason.IP_NOT_WHITELISTED
    assert restricted.reason is GatewayReason.PERMISSION_RESTRICTED
    assert expired.reason is GatewayReason.EXPIRED


async def test_views_do_not_hold_the_event_loop_while_sqlite_is_locked(
    sessions: Sessions, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite is read in the event loop")
    await add_key(sessions)
    path = database_url.split("///", 1)[1]
    await sessions.kw["bind"].dispose()  # no pooled connection keeps the file in WAL mode
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # readers of a rollback-journal file now get "busy"
    views = KeyViews(sessions.kw["bind"])
    asyncio.get_running_loop().call_later(0.3, holder.execute, "COMMIT")
    try:
        async with LoopTicks(0.01) as ticks:
            read = await views.get("key-1")
    finally:
        views.close()
        holder.close()

    assert read is not None and read.account_id == "acc-1"
    assert ticks.count >= 10  # the loop kept running while the read waited for the lock
