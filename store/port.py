"""The store's one way in: every caller's store work goes through a `Store`.

    store = open_store(settings.effective_database_url)     # store.engine, once per process
    key = await store.read(lambda c: get_key(c, key_id))      # committed data, no write lock
    record = await store.write(lambda c: upsert_account(c, account_id=..., ...))
    store.log_access(entry)                                    # fire and forget, batched
    report = await store.scan(verify)                          # a long read, on the engine
    pruned = await store.bulk(prune)                           # a long write, on the engine
    await store.close()                                        # flushes the access log first

Work is a plain function of a SQLAlchemy `Connection`, written once for both databases.
Writes that arrive together share one transaction and one commit; each runs in its own
savepoint, so one failing unit fails only its own caller. Each database has one
implementation: `store.sqlite.SqliteStore` (in the event loop) and
`store.postgres.PostgresStore` (group commit on the async engine).
"""

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from store.access import record_access

T = TypeVar("T")
Work = Callable[[Connection], Any]
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)

log = logging.getLogger(__name__)


def run_batch(connection: Connection, works: list[Work]) -> list[Outcome]:
    """Each unit in a savepoint of one transaction, committed once; raises if the commit fails.

    A unit alone is its transaction's only work, so it needs no savepoint (two statements
    fewer, round trips on PostgreSQL): what it raises, the caller's outcome, is raised here.
    """
    if len(works) == 1:
        with connection.begin():
            return [(True, works[0](connection))]
    outcomes: list[Outcome] = []
    with connection.begin():
        for work in works:
            try:
                with connection.begin_nested():
                    outcomes.append((True, work(connection)))
            except Exception as error:
                outcomes.append((False, error))
    return outcomes


def settle(futures: list["asyncio.Future[Any]"], outcomes: list[Outcome]) -> None:
    """Tell each waiting caller its unit's outcome."""
    for future, (ok, value) in zip(futures, outcomes, strict=True):
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class Store(ABC):
    """Reads, batched writes and the access log on one database; `close()` when done."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._access = AccessLog(self)

    @abstractmethod
    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work`'s SELECTs on committed data and return what they found."""

    @abstractmethod
    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in the next write transaction; returns once that transaction committed."""

    async def scan(self, work: Callable[[Connection], T]) -> T:
        """A long read (audit verify) on the engine's own connection, off the write path."""
        async with self._engine.connect() as connection:
            return await connection.run_sync(work)

    async def bulk(self, work: Callable[[Connection], T]) -> T:
        """A long write in its own transaction on the engine: off the shared batch and the loop."""
        async with self._engine.begin() as connection:
            return await connection.run_sync(work)

    def log_access(self, row: dict[str, Any]) -> None:
        """Queue one access-log row; committed in a batch shortly after, never waited for."""
        self._access.submit(row)

    async def flush(self) -> None:
        """Return once every access-log row logged before the call is committed (or dropped)."""
        await self._access.flush()

    async def close(self) -> None:
        """Commit the queued access log, then release the connections."""
        await self._access.stop()
        await self._close()
        await self._engine.dispose()

    @abstractmethod
    async def _close(self) -> None:
        """Release what the implementation holds besides the engine."""


class AccessLog:
    """The gateway's decisions, queued and written in batches behind the answers.

    A decision is answered before its row is committed: rows still queued when the process
    dies (the last few milliseconds, longer while the store is unavailable) are lost from
    the log; the answer never depends on the write, and a clean shutdown flushes all.
    A failing batch is retried, and dropped (logged) after `max_attempts`, so it cannot
    block the ones behind it; beyond `max_pending` queued rows the oldest are dropped.
    """

    def __init__(
        self,
        store: Store,
        interval: float = 0.005,
        max_batch: int = 500,
        max_attempts: int = 5,
        max_pending: int = 100_000,
    ) -> None:
        self._store = store
        self._interval = interval
        self._max_batch = max_batch
        self._max_attempts = max_attempts
        self._max_pending = max_pending
        self._pending: deque[dict[str, Any]] = deque()
        self._has_rows = asyncio.Event()
        self._now = asyncio.Event()  # write without waiting out the interval
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def submit(self, row: dict[str, Any]) -> None:
        """Queue one row for the next batch; returns at once."""
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            log.error("access log queue full (%d rows); dropped the oldest row", self._max_pending)
        self._pending.append(row)
        self._idle.clear()
        self._has_rows.set()
        if len(self._pending) >= self._max_batch:
            self._now.set()
        if self._task is None and not self._stopping:
            self._task = asyncio.create_task(self._run(), name="access-log")

    async def flush(self) -> None:
        """Return once every row submitted before the call has been written (or dropped)."""
        if self._task is None:
            await self._drain()
            return
        self._now.set()
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then end the background task."""
        self._stopping = True
        if self._task is not None:
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
            batch = [
                self._pending.popleft() for _ in range(min(self._max_batch, len(self._pending)))
            ]
            try:
                await self._store.write(partial(record_access, rows=batch))
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
