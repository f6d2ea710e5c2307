"""The store's one way in, on both backends: batched writes fail one by one, reads see commits."""

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from store.accounts import AccountRecord, get_account, upsert_account
from store.engine import open_store
from store.models import Account, ApiKey
from store.port import Store
from tests.store.factories import T0
from tests.store.loop_ticks import LoopTicks


def _account(account_id: str) -> Callable[[Connection], AccountRecord]:
    return lambda c: upsert_account(c, account_id=account_id, email="a@b.co", phone="+821012345678")


async def test_writes_arriving_together_fail_one_by_one(store: Store) -> None:
    def broken(connection: Connection) -> None:
        _account("acc-3")(connection)
        raise ValueError("refused after writing")

    results = await asyncio.gather(
        store.write(_account("acc-1")),
        store.write(broken),
        store.write(_account("acc-2")),
        return_exceptions=True,
    )

    assert [type(r).__name__ for r in results] == ["AccountRecord", "ValueError", "AccountRecord"]
    count = select(func.count()).select_from(Account)
    assert await store.read(lambda c: c.scalar(count)) == 2
    assert await store.read(lambda c: get_account(c, "acc-3")) is None  # its write undone


async def test_a_row_the_database_refuses_fails_its_caller_once(store: Store) -> None:
    attempts: list[int] = []

    def key_of_nobody(connection: Connection) -> None:
        attempts.append(1)
        row = {"key_id": "k", "account_id": "nobody", "exchange": "upbit", "status": "ACTIVE"}
        connection.execute(
            insert(ApiKey).values(
                **row, permissions=["read"], allowed_ips=[], created_at=T0, updated_at=T0
            )
        )

    with pytest.raises(IntegrityError):
        await store.write(key_of_nobody)
    assert attempts == [1]  # a bad row is not a lost race: it is not tried again


async def test_one_processes_write_is_read_by_another_at_once(
    store: Store, database_url: str
) -> None:
    other = open_store(database_url)
    try:
        await other.write(_account("acc-9"))
        assert await store.read(lambda c: get_account(c, "acc-9")) is not None
    finally:
        await other.close()


class _LostRace(Exception):
    sqlstate = "40001"  # what psycopg reports for a serialization failure


async def test_on_postgresql_a_unit_that_lost_a_race_is_tried_again_alone(
    store: Store, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: there is no race to lose")
    attempts: list[int] = []

    def racing(connection: Connection) -> AccountRecord:
        attempts.append(1)
        record = _account("acc-5")(connection)
        if len(attempts) == 1:
            raise OperationalError("UPDATE ...", {}, _LostRace())
        return record

    together = await asyncio.gather(store.write(racing), store.write(_account("acc-6")))

    assert [r.account_id for r in together] == ["acc-5", "acc-6"]
    assert len(attempts) == 2  # once in the shared transaction, once alone
    assert await store.read(lambda c: get_account(c, "acc-5")) is not None


# Some 0.3 s of work for either database, in one statement.
_LONG_COUNT = text(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000)"
    " SELECT count(*) FROM c"
)


async def test_a_bulk_write_commits_alone_off_the_loop_and_fails_alone(store: Store) -> None:
    def slow(connection: Connection) -> int:
        _account("acc-7")(connection)
        return int(connection.scalar(_LONG_COUNT))  # a long count or prune, in its transaction

    def broken(connection: Connection) -> None:
        _account("acc-8")(connection)
        raise ValueError("refused after writing")

    async with LoopTicks(0.01) as ticks:
        done, written = await asyncio.gather(store.bulk(slow), store.write(_account("acc-1")))
    with pytest.raises(ValueError):
        await store.bulk(broken)

    assert done == 2_000_000 and written.account_id == "acc-1"
    assert ticks.count >= 10  # the event loop ran on while the statement ran (0.3 s and more)
    assert await store.read(lambda c: get_account(c, "acc-7")) is not None
    assert await store.read(lambda c: get_account(c, "acc-8")) is None  # all of it undone
