"""What the store-backed activities share: sessions, one way in for their writes, a clock.

A worker runs many cases at once, and on SQLite every write transaction takes the one
write lock, which the API process wants too. The activities' store work is written as
plain Core statements on a connection and goes through `store.core_work.CoreWork`: on a
SQLite file it runs right in the event loop, holding the lock for well under a
millisecond rather than across a dozen thread hand-offs; elsewhere the writes that arrive
together share one transaction of the group commit.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.effects import AuditFact
from store.audit import append_facts_now
from store.core_work import CoreWork
from store.group_commit import GroupCommit
from store.loop_sqlite import LoopSqlite


def utc_now() -> datetime:
    """The wall clock, as activities read it (tests pass their own)."""
    return datetime.now(UTC)


class StoreActivities:
    """Base of activity classes that read and write the store."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = utc_now,
        writes: GroupCommit | None = None,
        loop: LoopSqlite | None = None,
    ) -> None:
        self._clock = clock
        self._work = CoreWork(sessions, writes, loop)

    async def _append_facts(self, facts: Sequence[AuditFact], now: datetime) -> int:
        """Append facts to the audit chain in a transaction of their own."""
        return await self._work.write(lambda connection: append_facts_now(connection, facts, now))
