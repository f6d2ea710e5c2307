"""The gateway decision from the registry, each one kept in the access log (in-line or batched)."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.gateway import GatewayDecision, GatewayReason
from store.access import access_entries, authorize, decide_access
from store.access_writer import AccessLogWriter
from store.models import AccessLogEntry, ApiKey
from tests.store.factories import T0, add_key

Sessions = async_sessionmaker[AsyncSession]


async def _authorize(sessions: Sessions, key_id: str, ip: str, permission: str) -> GatewayReason:
    async with sessions() as session:
        decision = await authorize(session, key_id, ip, permission, now=T0)
        await session.commit()
    return decision.reason


async def test_decisions_follow_registry_and_are_logged(sessions: Sessions) -> None:
    await add_key(sessions, allowed_ips=["203.0.113.0/24"], permissions=["read", "trade"])
    cases = [
        ("key-1", "::ffff:203.0.113.9", "trade", GatewayReason.ALLOWED),
        ("key-1", "203.0.114.1", "read", GatewayReason.IP_NOT_WHITELISTED),
        ("key-1", "203.0.113.9", "withdraw", GatewayReason.PERMISSION_RESTRICTED),
        ("key-1", "fe80::1%eth0", "read", GatewayReason.INVALID_IP),
        ("nope", "203.0.113.9", "read", GatewayReason.UNKNOWN_KEY),
    ]
    for key_id, ip, permission, expected in cases:
        assert await _authorize(sessions, key_id, ip, permission) is expected
    async with sessions() as session:
        logged = await access_entries(session, "key-1", since=T0 - timedelta(seconds=1))
        unknown = await access_entries(session, "nope", since=T0)
    assert [(e.ip, e.permission, e.allowed, e.reason) for e in logged] == [
        ("203.0.113.9", "trade", True, "allowed"),
        ("203.0.114.1", "read", False, "ip_not_whitelisted"),
        ("203.0.113.9", "withdraw", False, "permission_restricted"),
        ("fe80::1%eth0", "read", False, "invalid_ip"),
    ]
    assert {e.account_id for e in logged} == {"acc-1"}
    assert [(e.account_id, e.reason) for e in unknown] == [(None, "unknown_key")]


async def test_expired_key_is_denied(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        key = await session.get(ApiKey, "key-1")
        assert key is not None
        key.status = "EXPIRED"
        await session.commit()
    assert await _authorize(sessions, "key-1", "203.0.113.9", "read") is GatewayReason.EXPIRED


async def test_overlong_garbage_address_is_logged_truncated(sessions: Sessions) -> None:
    await add_key(sessions)
    assert await _authorize(sessions, "key-1", "x" * 500, "read") is GatewayReason.INVALID_IP
    async with sessions() as session:
        ip = await session.scalar(select(AccessLogEntry.ip))
    assert ip == "x" * 64


async def test_unknown_permission_is_refused_and_not_logged(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        with pytest.raises(ValueError):
            await authorize(session, "key-1", "203.0.113.9", "admin")
        assert await session.scalar(select(func.count()).select_from(AccessLogEntry)) == 0


async def test_decide_access_only_reads_and_returns_the_row_to_log(sessions: Sessions) -> None:
    await add_key(sessions, allowed_ips=["203.0.113.0/24"], permissions=["read", "trade"])
    async with sessions() as session:
        decision, entry = await decide_access(session, "key-1", "203.0.113.9", "trade", now=T0)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AccessLogEntry)) == 0
    assert decision.reason is GatewayReason.ALLOWED
    assert (entry["account_id"], entry["ip"], entry["allowed"]) == ("acc-1", "203.0.113.9", True)


async def test_writer_commits_every_queued_row_in_order_on_flush(sessions: Sessions) -> None:
    await add_key(sessions)
    writer = AccessLogWriter(sessions, interval=60, max_batch=7)
    writer.start()
    try:
        for n in range(20):
            _, entry = await _decided(sessions, f"203.0.113.{n}", now=T0 + timedelta(seconds=n))
            writer.submit(entry)
        await writer.flush()
        async with sessions() as session:
            logged = await access_entries(session, "key-1", since=T0)
    finally:
        await writer.stop()
    assert [e.ip for e in logged] == [f"203.0.113.{n}" for n in range(20)]


async def test_writer_rows_read_back_exactly_as_decided(sessions: Sessions) -> None:
    await add_key(sessions, allowed_ips=["203.0.113.0/24"], permissions=["read"])
    writer = AccessLogWriter(sessions, interval=60)
    writer.start()
    async with sessions() as session:
        allowed = await decide_access(
            session,
            "key-1",
            "203.0.113.9",
            "read",
            T0,
            "bot/1",
            "t13d1516h2_8daaf6152771_b186095e22b6",
        )
        unknown = await decide_access(session, "nope", "203.0.113.9", "trade", now=T0)
    for _, entry in (allowed, unknown):
        writer.submit(entry)
    await writer.stop()

    async with sessions() as session:
        logged = [
            *await access_entries(session, "key-1", T0),
            *await access_entries(session, "nope", T0),
        ]
    columns = (
        *("key_id", "account_id", "ip", "permission", "allowed", "reason", "decided_at"),
        *("user_agent", "tls_fingerprint", "network"),
    )
    assert [{c: getattr(e, c) for c in columns} for e in logged] == [allowed[1], unknown[1]]
    assert (logged[0].user_agent, logged[0].network) == ("bot/1", "203.0.113.0/24")
    assert logged[0].decided_at == T0 and logged[0].decided_at.tzinfo is not None


async def test_writer_writes_within_its_interval_without_being_asked(sessions: Sessions) -> None:
    await add_key(sessions)
    writer = AccessLogWriter(sessions, interval=0.005)
    writer.start()
    try:
        _, entry = await _decided(sessions, "203.0.113.9", now=T0)
        writer.submit(entry)
        for _ in range(200):
            async with sessions() as session:
                if await access_entries(session, "key-1", since=T0):
                    break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the queued row was never written")
    finally:
        await writer.stop()


async def test_writer_stopping_writes_what_is_still_queued(sessions: Sessions) -> None:
    await add_key(sessions)
    writer = AccessLogWriter(sessions, interval=60)
    writer.start()
    for n in range(3):
        _, entry = await _decided(sessions, f"203.0.113.{n}", now=T0)
        writer.submit(entry)
    await writer.stop()
    async with sessions() as session:
        assert len(await access_entries(session, "key-1", since=T0)) == 3


async def _decided(
    sessions: Sessions, ip: str, now: datetime
) -> tuple[GatewayDecision, dict[str, Any]]:
    async with sessions() as session:
        return await decide_access(session, "key-1", ip, "read", now=now)
