"""Short synchronous Core work on a `Connection`, run where it costs the least.

The worker's store writes are written once, as plain functions of a SQLAlchemy
`Connection`, and run:

- on a SQLite file, in the event loop through `store.loop_sqlite` (the write lock held for
  microseconds, never across thread hand-offs that other processes' writers wait behind);
- elsewhere, in the shared group commit on an async session (`AsyncSession.run_sync`), so
  PostgreSQL sees the same statements in the same transactions as before.

    work = CoreWork(sessions, GroupCommit(sessions), LoopSqlite.for_engine(engine))
    changed = await work.write(lambda connection: apply_measure_now(connection, request, now))
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from store.group_commit import GroupCommit
from store.loop_sqlite import Busy, LoopSqlite

T = TypeVar("T")


class CoreWork:
    """Runs `Callable[[Connection], T]` work: in the event loop on SQLite, else in a session."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writes: GroupCommit | None = None,
        loop: LoopSqlite | None = None,
    ) -> None:
        self._sessions = sessions
        self._writes = writes or GroupCommit(sessions)
        self._loop = loop

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a write transaction; returns once that transaction committed."""
        if self._loop is not None:
            return await self._loop.write(work)
        return await self._writes.run(lambda session: session.run_sync(_on_connection, work))

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work`'s SELECTs and return what they found (committed data only)."""
        if self._loop is not None:
            try:
                return self._loop.read(work)
            except Busy:
                pass  # SQLite is recovering or checkpointing: the engine's connections wait
        async with self._sessions() as session:
            return await session.run_sync(_on_connection, work)


def _on_connection(session: Session, work: Callable[[Connection], T]) -> T:
    return work(session.connection())
