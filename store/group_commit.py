"""Group commit: many callers' small write units share one transaction and one commit.

On SQLite every write transaction takes the database's single write lock, which the
worker process also wants; under load the lock, not the SQL, is the cost. Units that
arrive while a transaction is being written wait and go together in the next one.
If a shared transaction fails, each of its units is retried alone, so one bad unit
fails only its own caller.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.uow import run_write

T = TypeVar("T")
Unit = Callable[[AsyncSession], Awaitable[Any]]


class GroupCommit:
    """Queues write units and runs them in shared transactions, at most `max_batch` each."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = 200) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, unit: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `unit` in the next shared transaction; returns once that transaction committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((unit, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write(batch)
        finally:
            self._writer = None

    async def _write(self, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        async def together(session: AsyncSession) -> list[Any]:
            return [await unit(session) for unit, _ in batch]

        try:
            results = await run_write(self._sessions, together)
        except Exception:
            await asyncio.gather(*(self._alone(unit, future) for unit, future in batch))
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _alone(self, unit: Unit, future: asyncio.Future[Any]) -> None:
        try:
            result = await run_write(self._sessions, unit)
        except Exception as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)
