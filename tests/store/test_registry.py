"""The key registry: registration, whitelists, and what it never stores."""

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.keys import KeyStatus, Permission
from domain.network import InvalidWhitelist
from store.models import ApiKey
from store.registry import (
    KeyConflict,
    UnknownAccount,
    UnknownKey,
    get_key,
    register_key,
    replace_allowed_ips,
)
from tests.store.factories import add_key

Sessions = async_sessionmaker[AsyncSession]


async def test_registered_key_is_active_with_normalised_whitelist(sessions: Sessions) -> None:
    await add_key(
        sessions,
        allowed_ips=["::ffff:198.51.100.0/120", "2001:DB8::1"],
        permissions=["trade", "read"],
    )
    async with sessions() as session:
        record = await get_key(session, "key-1")
    assert record is not None
    assert record.status is KeyStatus.ACTIVE
    assert record.permissions == [Permission.READ, Permission.TRADE]
    assert record.allowed_ips == ["198.51.100.0/24", "2001:db8::1"]


async def test_registering_again_with_same_facts_changes_nothing(sessions: Sessions) -> None:
    first = await add_key(sessions)
    again = await add_key(sessions)
    assert again == first


async def test_registering_again_differently_is_a_conflict(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        with pytest.raises(KeyConflict):
            await register_key(
                session,
                key_id="key-1",
                account_id="acc-1",
                exchange="bithumb",
                permissions=["read"],
                allowed_ips=[],
            )


async def test_key_needs_a_registered_account(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(UnknownAccount):
            await register_key(
                session,
                key_id="key-9",
                account_id="ghost",
                exchange="upbit",
                permissions=["read"],
                allowed_ips=[],
            )


async def test_invalid_whitelist_is_refused_with_every_problem(sessions: Sessions) -> None:
    with pytest.raises(InvalidWhitelist) as caught:
        await add_key(sessions, allowed_ips=["203.0.113.7", "bogus", "10.0.0.1/8"])
    assert [p.split(":")[0] for p in caught.value.problems] == ["entry 2", "entry 3"]
    async with sessions() as session:
        assert await get_key(session, "key-1") is None


async def test_whitelist_is_replaced_and_normalised(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        await replace_allowed_ips(session, "key-1", ["::ffff:192.0.2.1", "2001:db8:a::/48"])
        await session.commit()
    async with sessions() as session:
        record = await get_key(session, "key-1")
    assert record is not None and record.allowed_ips == ["192.0.2.1", "2001:db8:a::/48"]


async def test_more_than_ten_addresses_are_refused(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        with pytest.raises(InvalidWhitelist, match="at most 10"):
            await replace_allowed_ips(session, "key-1", [f"192.0.2.{i}" for i in range(11)])


async def test_whitelist_of_unknown_or_expired_key_cannot_be_replaced(sessions: Sessions) -> None:
    await add_key(sessions)
    async with sessions() as session:
        with pytest.raises(UnknownKey):
            await replace_allowed_ips(session, "key-404", [])
        key = await session.get(ApiKey, "key-1")
        assert key is not None
        key.status = KeyStatus.EXPIRED.value
        await session.commit()
    async with sessions() as session:
        with pytest.raises(KeyConflict, match="expired"):
            await replace_allowed_ips(session, "key-1", ["192.0.2.1"])


async def test_registry_has_no_column_for_a_secret(sessions: Sessions) -> None:
    columns = {c.key for c in inspect(ApiKey).columns}
    assert "secret" not in columns and "secret_hash" in columns
    async with sessions() as session:
        await register_key(
            session,
            key_id="key-5",
            account_id=(await add_key(sessions)).account_id,
            exchange="korbit",
            permissions=["read"],
            allowed_ips=[],
            secret_hash="sha256:" + "ab" * 32,
        )
        await session.commit()
        stored = await session.scalar(select(ApiKey.secret_hash).where(ApiKey.key_id == "key-5"))
    assert stored == "sha256:" + "ab" * 32


async def test_anything_but_a_digest_is_refused_as_secret_hash(sessions: Sessions) -> None:
    account_id = (await add_key(sessions)).account_id
    async with sessions() as session:
        with pytest.raises(ValueError, match="not a secret"):
            await register_key(
                session,
                key_id="key-6",
                account_id=account_id,
                exchange="gopax",
                permissions=["read"],
                allowed_ips=[],
                secret_hash="my-plain-api-secret",
            )
