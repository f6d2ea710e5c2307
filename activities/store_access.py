"""What the store-backed activities share: sessions, one group commit for writes, a clock.

A worker runs many cases at once, and on SQLite every write transaction takes the one
write lock. Writes from all activities of a worker go through one `GroupCommit`, so the
writes that arrive together share a transaction and a commit instead of queueing for the
lock one by one. The most frequent write, appending a case's facts to the audit chain,
runs on SQLite through `store.loop_sqlite` instead: in the event loop, holding the lock
for well under a millisecond rather than across a dozen thread hand-offs.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.effects import AuditFact
from store.audit import append_facts, append_facts_now
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
        self._sessions = sessions
        self._clock = clock
        self._writes = writes or GroupCommit(sessions)
        self._loop = loop  # on a SQLite file: short writes right in the event loop

    async def _append_facts(self, facts: Sequence[AuditFact], now: datetime) -> int:
        """Append facts to the audit chain: in the event loop on SQLite, else group-committed."""
        if self._loop is not None:
            return await self._loop.write(lambda c: append_facts_now(c, facts, now))
        return await self._writes.run(lambda s: append_facts(s, facts, now))
