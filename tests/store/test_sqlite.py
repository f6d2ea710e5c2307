"""The SQLite store: writes wait for another process's lock asleep, reads see commits."""

import asyncio
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from store.engine import make_engine
from store.sqlite import CHECKPOINT_EVERY, SqliteStore
from tests.store.loop_ticks import LoopTicks


def _notes_database(path: Path) -> str:
    with closing(sqlite3.connect(path)) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return str(path)


@pytest.fixture
def database(tmp_path: Path) -> str:
    return _notes_database(tmp_path / "loop.db")


def _store(database: str, checkpoint_every: int = CHECKPOINT_EVERY) -> SqliteStore:
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    return SqliteStore(engine, database, checkpoint_every=checkpoint_every)


def _insert(n: int) -> Callable[[Connection], int]:
    def work(connection: Connection) -> int:
        connection.execute(text("INSERT INTO notes (n, body) VALUES (:n, 'x')"), {"n": n})
        return n

    return work


def _count(connection: Connection) -> int:
    return int(connection.execute(text("SELECT count(*) FROM notes")).scalar_one())


async def test_write_waits_for_another_connection_s_lock_without_blocking_the_loop(
    database: str,
) -> None:
    loop_db = _store(database)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    async with LoopTicks(0.001) as ticks:
        writing = asyncio.create_task(loop_db.write(_insert(1)))
        await asyncio.sleep(0.1)
        waited = not writing.done()
        other.execute("COMMIT")
        written = await asyncio.wait_for(writing, 5)

    assert waited and written == 1
    assert ticks.count > 20  # the loop kept running while the write waited
    assert await loop_db.read(_count) == 1
    other.close()
    await loop_db.close()


async def test_failed_write_rolls_back_and_reads_see_other_connections_commits(
    database: str,
) -> None:
    loop_db = _store(database)

    def half_then_fail(connection: Connection) -> None:
        _insert(1)(connection)
        raise ValueError("refused")

    with pytest.raises(ValueError):
        await loop_db.write(half_then_fail)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("INSERT INTO notes (n, body) VALUES (2, 'y')")

    assert await loop_db.read(_count) == 1  # only the other connection's row
    other.close()
    await loop_db.close()


async def test_write_that_runs_no_statement_leaves_no_lock_behind(database: str) -> None:
    loop_db = _store(database)

    await loop_db.write(lambda connection: None)
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # would fail at once if the write lock were still held
    other.execute("ROLLBACK")

    other.close()
    await loop_db.close()


async def test_writes_queued_together_fail_one_by_one(database: str) -> None:
    loop_db = _store(database)
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the writes queue up behind another process's lock

    def duplicate(connection: Connection) -> int:
        return _insert(7)(connection)  # same primary key as the write before it

    writes = asyncio.gather(
        loop_db.write(_insert(7)),
        loop_db.write(duplicate),
        loop_db.write(_insert(8)),
        return_exceptions=True,
    )
    await asyncio.sleep(0.05)
    other.execute("COMMIT")
    results = await asyncio.wait_for(writes, 5)

    assert results[0] == 7 and results[2] == 8
    assert isinstance(results[1], IntegrityError)
    assert await loop_db.read(_count) == 2
    other.close()
    await loop_db.close()


async def test_the_wal_is_checkpointed_in_the_background_so_it_stops_growing(
    tmp_path: Path,
) -> None:
    page = "x" * 4000

    async def wal_after_filling(database: str, checkpoint_every: int) -> int:
        loop_db = _store(database, checkpoint_every)
        for n in range(300):

            def insert(connection: Connection, n: int = n) -> None:
                connection.execute(
                    text("INSERT INTO notes (n, body) VALUES (:n, :body)"), {"n": n, "body": page}
                )

            await loop_db.write(insert)
            await asyncio.sleep(0.001)  # lets a background checkpoint finish
        size = _wal_size(database)  # before the last connection closes and removes the WAL
        await loop_db.close()
        return size

    never, often = _notes_database(tmp_path / "never.db"), _notes_database(tmp_path / "often.db")
    unchecked = await wal_after_filling(never, checkpoint_every=10_000)
    checked = await wal_after_filling(often, checkpoint_every=10)

    assert unchecked > 1_000_000  # 300 rows of 4 KB, all still in the WAL
    assert checked < unchecked / 4  # reused from its start after each checkpoint


async def test_the_writer_commits_as_durably_as_the_engine_and_no_more(database: str) -> None:
    # WAL with synchronous=NORMAL: a crash loses no committed row and corrupts nothing; only
    # a power cut may lose the last commits. FULL would fsync under the lock, in the loop.
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.connect() as connection:
        engine_level = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    await engine.dispose()
    loop_db = _store(database)

    writer_level = await loop_db.write(
        lambda connection: connection.exec_driver_sql("PRAGMA synchronous").scalar_one()
    )

    assert writer_level == engine_level == 1  # NORMAL
    await loop_db.close()


def _wal_size(database: str) -> int:
    return os.path.getsize(f"{database}-wal")


async def test_the_store_puts_the_file_in_wal_mode_so_readers_never_wait(tmp_path: Path) -> None:
    path = tmp_path / "rollback.db"
    with closing(sqlite3.connect(path)) as setup:
        setup.execute("CREATE TABLE notes (n INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    store = _store(str(path))
    await store.write(_insert(1))
    await store.close()
    with closing(sqlite3.connect(path)) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
