"""The store on PostgreSQL: group commit on the async engine.

Writes that arrive while a transaction is being written wait and go together in the next
one (at most `max_batch`), each in its own savepoint (`store.port.run_batch`). A batch
whose commit loses a race with another writer (serialization failure, deadlock) is tried
again whole; a unit that lost such a race inside its savepoint is tried again alone.
Reads run in autocommit on a pooled connection of the same engine; psycopg talks to the
server over a socket, so nothing here needs a thread.
"""

import asyncio
import random
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from store.port import Outcome, Store, Work, run_batch, settle

T = TypeVar("T")

ATTEMPTS = 8
_RETRY_STATES = {"40001", "40P01"}  # serialization failure, deadlock


def is_conflict(error: BaseException) -> bool:
    """A lost race with another writer, worth trying again (not a bad row)."""
    if not isinstance(error, OperationalError):
        return False
    return getattr(error.orig, "sqlstate", None) in _RETRY_STATES


class PostgresStore(Store):
    """Reads on the engine's pool; writes queued into shared transactions."""

    def __init__(self, engine: AsyncEngine, max_batch: int = 200) -> None:
        super().__init__(engine)
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._max_batch = max_batch
        self._waiting: list[tuple[Work, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work`'s SELECTs in autocommit: each sees the last commit, as on SQLite.

        No BEGIN and no ROLLBACK: one round trip per statement instead of three. A pooled
        connection the server has dropped is replaced and the read tried once more.
        """
        for attempt in (1, 2):
            try:
                async with self._reads.connect() as connection:
                    return await connection.run_sync(work)
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in the next shared transaction; returns once that transaction committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _close(self) -> None:
        """Nothing to release: every connection is the engine's."""

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        try:
            outcomes = await self._committed([work for work, _ in batch])
        except Exception as error:
            outcomes = [(False, error)] * len(batch)
        retry = [i for i, (ok, value) in enumerate(outcomes) if not ok and is_conflict(value)]
        for i in retry:
            try:
                outcomes[i] = (await self._committed([batch[i][0]]))[0]
            except Exception as error:
                outcomes[i] = (False, error)
        settle([future for _, future in batch], outcomes)

    async def _committed(self, works: list[Work]) -> list[Outcome]:
        """`run_batch` in a transaction of its own, tried again while its commit conflicts."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self._engine.connect() as connection:
                    return await connection.run_sync(run_batch, works)
            except DBAPIError as error:
                if attempt == ATTEMPTS or not is_conflict(error):
                    raise
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")
