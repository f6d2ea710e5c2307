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
import sqlite3
from collections import deque
from contextlib import suppress
from functools import partial
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from store.loop_sqlite import sqlite_file
from store.models import AccessLogEntry
from store.uow import in_process_writer_lock, run_write

log = logging.getLogger(__name__)

Row = dict[str, Any]

_TABLE: Table = AccessLogEntry.__table__  # type: ignore[assignment]
_COLUMNS = [column.name for column in _TABLE.columns if column.name != "id"]
_INSERT = insert(_TABLE)


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
        engine = sessions.kw.get("bind")
        path = sqlite_file(engine) if isinstance(engine, AsyncEngine) else None
        self._sqlite = None if path is None or engine is None else _SqliteInserts(path, engine)

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
        if self._sqlite is not None:
            self._sqlite.close()

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
                await self._write(batch)
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

    async def _write(self, batch: list[Row]) -> None:
        if self._sqlite is None:
            await run_write(self._sessions, partial(_insert, rows=batch))
            return
        # Queued behind this process's other writers, as run_write would queue it.
        async with in_process_writer_lock(self._sessions):
            await asyncio.to_thread(self._sqlite.write, batch)


async def _insert(session: AsyncSession, rows: list[Row]) -> None:
    await session.execute(_INSERT, rows)


class _SqliteInserts:
    """Batches into a SQLite file over one plain connection: one thread hop a batch.

    Through a session a batch cost ~0.9 ms of the event loop's CPU (pool, ORM bulk
    insert, a thread hop per statement), paid up to 200 times a second; here the
    whole transaction runs in a worker thread. Values are encoded by the columns'
    own SQLAlchemy types, so the rows read back exactly as the engine wrote them.
    """

    def __init__(self, path: str, engine: AsyncEngine) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        dialect: Dialect = engine.dialect
        self._sql = str(_INSERT.compile(dialect=dialect, column_keys=_COLUMNS))
        self._encoders = [
            _TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS
        ]

    def write(self, rows: list[Row]) -> None:
        """Insert `rows` in one transaction (in a worker thread: it may wait for the lock)."""
        values = [
            tuple(
                row.get(name) if encode is None else encode(row.get(name))
                for name, encode in zip(_COLUMNS, self._encoders, strict=True)
            )
            for row in rows
        ]
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany(self._sql, values)
            connection.execute("COMMIT")
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # As store.engine sets up its connections: the same lock wait, sync mode, checks.
            connection = sqlite3.connect(
                self._path, timeout=30, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            self._connection = connection
        return self._connection
