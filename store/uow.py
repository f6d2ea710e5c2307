"""Write transactions that serialise with other writers, commit once and retry on conflict.

SQLite allows one writer at a time; a transaction that read before writing fails
at once ("database is locked") when another writer committed in between. Taking
the write lock first (`BEGIN IMMEDIATE`) makes it wait instead. Audit appends also
take a transaction-scoped advisory lock on PostgreSQL, so appends queue for the
chain's head while other writes (gateway decisions, outbox rows) run in parallel.
Either way the unique constraints on the chain stay the real guarantee; the locks
only spare the retries.

    result = await run_write(sessions, lambda session: register_key(session, ...))
"""

import asyncio
import random
import weakref
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

T = TypeVar("T")

# One advisory lock for the one audit chain ("keycase" in ASCII, as a bigint).
AUDIT_LOCK_ID = 0x6B6579636173

_PG_RETRY_STATES = {"40001", "40P01"}  # serialization failure, deadlock
# What a writer that lost the race for the chain's head sees (SQLite, then PostgreSQL names).
_CHAIN_CONFLICTS = (
    "audit_log.seq",
    "audit_log.prev_hash",
    "audit_log.row_hash",
    "audit_log.event_id",
    "pk_audit_log",
    "uq_audit_log_prev_hash",
    "uq_audit_log_row_hash",
    "uq_audit_log_event_id",
)


async def lock_for_write(session: AsyncSession) -> None:
    """On SQLite, hold the database's write lock for the rest of the transaction (idempotent).

    PostgreSQL needs nothing here: row locks and constraints serialise what conflicts.
    """
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        raw = await connection.get_raw_connection()
        # pysqlite begins lazily, so nothing has been written unless it says so.
        if not raw.driver_connection.in_transaction:  # type: ignore[union-attr]
            await connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_audit_chain_now(connection: Connection) -> None:
    """On PostgreSQL, the audit chain's advisory lock; SQLite's write lock is the caller's."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})


# SQLite's busy handler sleeps 1, 2, 5, 10 … 100 ms between tries, so writers of one
# process that collide on the write lock lose far more time sleeping than writing.
# Queueing them on an asyncio lock first hands the lock over the moment it is free;
# the busy handler is then only for writers in other processes.
_sqlite_writers: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


def in_process_writer_lock(
    sessions: async_sessionmaker[AsyncSession],
) -> AbstractAsyncContextManager[object]:
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return nullcontext()
    lock = _sqlite_writers.get(engine)
    if lock is None:
        lock = _sqlite_writers[engine] = asyncio.Lock()
    return lock


def is_conflict(error: DBAPIError) -> bool:
    """A lost race with another writer, worth retrying (not a bad row)."""
    if isinstance(error, IntegrityError):
        # Only the chain's own uniqueness can be lost to a concurrent writer.
        return any(name in str(error.orig) for name in _CHAIN_CONFLICTS)
    if isinstance(error, OperationalError):
        state = getattr(error.orig, "sqlstate", None)
        return state in _PG_RETRY_STATES or "database is locked" in str(error.orig)
    return False


async def run_write(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[AsyncSession], Awaitable[T]],
    attempts: int = 8,
) -> T:
    """Run `work` in one locked transaction and commit it; retry the whole unit on conflict."""
    for attempt in range(1, attempts + 1):
        try:
            async with in_process_writer_lock(sessions), sessions() as session:
                await lock_for_write(session)
                result = await work(session)
                await session.commit()
                return result
        except DBAPIError as error:
            if attempt == attempts or not is_conflict(error):
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")
