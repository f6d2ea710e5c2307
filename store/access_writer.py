"""The access log written behind the gateway's answers: queued rows, one transaction per batch.

    writer = AccessLogWriter(sessions)   # started and stopped by the API's lifespan
    writer.start()
    writer.submit(row)                   # never waits, never takes the write lock
    await writer.flush()                 # everything submitted so far is committed
    await writer.stop()                  # flushes, then ends the background task

On SQLite every write transaction takes the database's single write lock, which the
worker process also wants; one lock per gateway request made the lock, not the decision,
the cost. Here the request only appends a row to a queue; a background task commits
whatever is queued every `interval` seconds (sooner once `max_batch` rows wait), all of it
in one transaction.

Durability trade-off: a decision is answered before its row is committed. Rows still in
the queue when the process dies (at most the last flush window, a few milliseconds in
normal operation, longer while the store is unavailable) are lost from the access log.
The answer itself never depends on the write. A clean shutdown flushes everything.
A batch that fails is retried on the next tick; after `max_attempts` it is dropped and
logged, so one undeliverable batch cannot block the ones behind it. At most
`max_pending` rows wait in memory; beyond that the oldest are dropped, and logged.
"""

import asyncio
import logging
from collections import deque
from contextlib import suppress
from functools import partial
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AccessLogEntry
from store.uow import run_write

log = logging.getLogger(__name__)

Row = dict[str, Any]

_INSERT = insert(AccessLogEntry)


class AccessLogWriter:
    """Batches access-log rows into shared transactions from one background task."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval: float = 0.005,
        max_batch: int = 500,
        max_attempts: int = 5,
        max_pending: int = 100_000,
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._max_batch = max_batch
        self._max_attempts = max_attempts
        self._pending: deque[Row] = deque()
        self._max_pending = max_pending
        self._has_rows = asyncio.Event()
        self._now = asyncio.Event()  # write without waiting out the interval
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        """Begin writing in the background (idempotent)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="access-log-writer")

    def submit(self, row: Row) -> None:
        """Queue one row for the next batch; returns at once."""
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            log.error("access log queue full (%d rows); dropped the oldest row", self._max_pending)
        self._pending.append(row)
        self._idle.clear()
        self._has_rows.set()
        if len(self._pending) >= self._max_batch:
            self._now.set()

    async def flush(self) -> None:
        """Return once every row submitted before the call has been written (or dropped)."""
        if self._task is None:
            await self._drain()
            return
        self._now.set()
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then end the background task."""
        if self._task is not None:
            self._stopping = True
            self._has_rows.set()
            self._now.set()
            await self._task
            self._task = None
        await self._drain()

    async def _run(self) -> None:
        while not self._stopping:
            # Idle costs nothing: sleep until a row arrives, then let a batch gather.
            await self._has_rows.wait()
            if not self._now.is_set():
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._now.wait(), self._interval)
            self._has_rows.clear()
            self._now.clear()
            await self._drain()

    async def _drain(self) -> None:
        attempts = 0
        while self._pending:
            size = min(self._max_batch, len(self._pending))
            batch = [self._pending.popleft() for _ in range(size)]
            try:
                await run_write(self._sessions, partial(_insert, rows=batch))
            except Exception:
                attempts += 1
                if attempts >= self._max_attempts:
                    log.exception("access log batch of %d rows dropped", len(batch))
                    attempts = 0
                    continue
                log.warning("access log batch failed; retrying", exc_info=True)
                self._pending.extendleft(reversed(batch))
                await asyncio.sleep(self._interval * 2**attempts)
            else:
                attempts = 0
        self._idle.set()


async def _insert(session: AsyncSession, rows: list[Row]) -> None:
    await session.execute(_INSERT, rows)
