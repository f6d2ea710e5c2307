"""The key registry: registration, whitelists, and what it never stores."""

from typing import Any

import pytest
from sqlalchemy import inspect, select, update

from domain.keys import KeyStatus, Permission
from domain.network import InvalidWhitelist
from domain.registry import KeyConflict
from store.models import ApiKey
from store.port import Store
from store.registry import (
    UnknownAccount,
    UnknownKey,
    get_key,
    register_key,
    replace_allowed_ips,
)
from tests.store.factories import add_key


def _register(store: Store, **fields: Any) -> Any:
    facts = {"permissions": ["read"], "allowed_ips": [], **fields}
    return store.write(lambda c: register_key(c, **facts))


async def test_registered_key_is_active_with_normalised_whitelist(store: Store) -> None:
    await add_key(
        store,
        allowed_ips=["::ffff:198.51.100.0/120", "2001:DB8::1"],
        permissions=["trade", "read"],
    )
    record = await store.read(lambda c: get_key(c, "key-1"))
    assert record is not None
    assert record.status is KeyStatus.ACTIVE
    assert record.permissions == [Permission.READ, Permission.TRADE]
    assert record.allowed_ips == ["198.51.100.0/24", "2001:db8::1"]


async def test_registering_again_with_same_facts_changes_nothing(store: Store) -> None:
    first = await add_key(store)
    again = await add_key(store)
    assert again == first


async def test_registering_again_differently_is_a_conflict(store: Store) -> None:
    await add_key(store)
    with pytest.raises(KeyConflict):
        await _register(store, key_id="key-1", account_id="acc-1", exchange="bithumb")


async def test_key_needs_a_registered_account(store: Store) -> None:
    with pytest.raises(UnknownAccount):
        await _register(store, key_id="key-9", account_id="ghost", exchange="upbit")


async def test_invalid_whitelist_is_refused_with_every_problem(store: Store) -> None:
    with pytest.raises(InvalidWhitelist) as caught:
        await add_key(store, allowed_ips=["203.0.113.7", "bogus", "10.0.0.1/8"])
    assert [p.split(":")[0] for p in caught.value.problems] == ["entry 2", "entry 3"]
    assert await store.read(lambda c: get_key(c, "key-1")) is None


async def test_whitelist_is_replaced_and_normalised(store: Store) -> None:
    await add_key(store)
    await store.write(
        lambda c: replace_allowed_ips(c, "key-1", ["::ffff:192.0.2.1", "2001:db8:a::/48"])
    )
    record = await store.read(lambda c: get_key(c, "key-1"))
    assert record is not None and record.allowed_ips == ["192.0.2.1", "2001:db8:a::/48"]


async def test_more_than_ten_addresses_are_refused(store: Store) -> None:
    await add_key(store)
    with pytest.raises(InvalidWhitelist, match="at most 10"):
        await store.write(
            lambda c: replace_allowed_ips(c, "key-1", [f"192.0.2.{i}" for i in range(11)])
        )


async def test_whitelist_of_unknown_or_expired_key_cannot_be_replaced(store: Store) -> None:
    await add_key(store)
    with pytest.raises(UnknownKey):
        await store.write(lambda c: replace_allowed_ips(c, "key-404", []))
    await store.write(
        lambda c: c.execute(
            update(ApiKey).where(ApiKey.key_id == "key-1").values(status=KeyStatus.EXPIRED.value)
        )
    )
    with pytest.raises(KeyConflict, match="expired"):
        await store.write(lambda c: replace_allowed_ips(c, "key-1", ["192.0.2.1"]))


async def test_registry_has_no_column_for_a_secret(store: Store) -> None:
    columns = {c.key for c in inspect(ApiKey).columns}
    assert "secret" not in columns and "secret_hash" in columns
    account_id = (await add_key(store)).account_id
    await _register(
        store,
        key_id="key-5",
        account_id=account_id,
        exchange="korbit",
        secret_hash="sha256:" + "ab" * 32,
    )
    stored = await store.read(
        lambda c: c.scalar(select(ApiKey.secret_hash).where(ApiKey.key_id == "key-5"))
    )
    assert stored == "sha256:" + "ab" * 32


async def test_anything_but_a_digest_is_refused_as_secret_hash(store: Store) -> None:
    account_id = (await add_key(store)).account_id
    with pytest.raises(ValueError, match="not a secret"):
        await _register(
            store,
            key_id="key-6",
            account_id=account_id,
            exchange="gopax",
            secret_hash="my-plain-api-secret",
        )
