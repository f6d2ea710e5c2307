"""Labelled patterns put into a store: keys registered, requests decided and logged."""

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.access import decide_access
from store.accounts import upsert_account
from store.models import AccessLogEntry
from store.registry import register_key
from tests.detection.patterns import Pattern

Sessions = async_sessionmaker[AsyncSession]


async def register(sessions: Sessions, patterns: list[Pattern]) -> None:
    """Each pattern's accounts and keys, as an admin registers them."""
    async with sessions() as session:
        for account_id in sorted({k.account_id for p in patterns for k in p.keys}):
            await upsert_account(
                session, account_id=account_id, email="owner@example.com", phone="+821012345678"
            )
        for pattern in patterns:
            for key in pattern.keys:
                await register_key(
                    session,
                    key_id=key.key_id,
                    account_id=key.account_id,
                    exchange="upbit",
                    permissions=["read", "trade"],
                    allowed_ips=key.allowed_ips,
                )
        await session.commit()


async def replay_requests(sessions: Sessions, patterns: list[Pattern]) -> int:
    """Every request decided by the real gateway rule and logged, in time order."""
    requests = sorted((r for p in patterns for r in p.requests), key=lambda r: r.at)
    async with sessions() as session:
        entries = [
            (
                await decide_access(
                    session, r.key_id, r.ip, r.permission, r.at, r.user_agent, r.tls_fingerprint
                )
            )[1]
            for r in requests
        ]
        await session.execute(insert(AccessLogEntry), entries)
        await session.commit()
    return len(entries)
