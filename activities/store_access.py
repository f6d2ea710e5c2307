"""What the store-backed activities share: the process's store and a clock.

A worker runs many cases at once; every activity's store work is a plain function of a
connection and goes through the worker's one `store.port.Store`, so writes that arrive
together share a transaction (and, on SQLite, hold the write lock for well under a
millisecond, right in the event loop).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from domain.activity_io import AuditFact
from store.audit import append_facts
from store.port import Store


def utc_now() -> datetime:
    """The wall clock, as activities read it (tests pass their own)."""
    return datetime.now(UTC)


class StoreActivities:
    """Base of activity classes that read and write the store."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._work = store

    async def _append_facts(self, facts: Sequence[AuditFact], now: datetime) -> int:
        """Append facts to the audit chain in a transaction of their own."""
        return await self._work.write(lambda connection: append_facts(connection, facts, now))
