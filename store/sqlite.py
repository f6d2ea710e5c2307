"""The store on a SQLite file: short Core work in the event loop, never waiting.

On aiosqlite every statement goes to a thread and back, and under load each hop waits
for its turn in the event loop: a one-row read took about 10 ms and a one-row write
20 ms in the intake benchmark, while the statements themselves take microseconds. A
writer that meets another process's lock also sleeps in SQLite's busy handler, up to
100 ms a time. So all store work runs right in the loop thread, on two connections of
a synchronous engine:

- reads in autocommit: each SELECT is its own read transaction and sees the last commit
  of every process; WAL readers never wait for writers. Should SQLite still answer busy
  (recovery, a restarting checkpoint), the read goes to the async engine, which waits in
  its own thread;
- writes in `BEGIN IMMEDIATE` transactions that run start to finish without an await, so
  nothing else in the process interleaves. With a zero busy timeout a lock held by
  another process fails the BEGIN at once, and it is tried again after a short asyncio
  sleep: the loop never blocks on a lock. Writes queue for one writer task, which takes
  the lock once for everything queued (`store.port.run_batch`): one poller keeps trying
  often enough to catch the short gaps another process leaves between its transactions,
  and the lock is held for well under a millisecond.

A commit never stalls the loop copying pages into the database file: the write
connection does not checkpoint on commit; every `checkpoint_every` commits a passive
checkpoint runs in a worker thread instead, on a connection of its own, while the writes
queued here wait (other coroutines run on).
"""

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from store.port import Store, run_batch, settle

T = TypeVar("T")
log = logging.getLogger(__name__)

BUSY_GIVE_UP_SECONDS = 30.0  # as long as the engine's own busy timeout
CHECKPOINT_EVERY = 200  # commits (SQLite's own default: every 1,000 pages of WAL)
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0005, 0.002  # one poller, so it can afford to be keen


_Queued = tuple[Callable[[Connection], Any], "asyncio.Future[Any]"]


def sqlite_file(engine: AsyncEngine) -> str | None:
    """The path of the engine's SQLite database file; None for other backends and memory."""
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:" or engine.url.query:
        return None
    return path


class SqliteStore(Store):
    """A reader and a writer connection to one SQLite file, used from the event loop."""

    def __init__(
        self, engine: AsyncEngine, path: str, checkpoint_every: int = CHECKPOINT_EVERY
    ) -> None:
        super().__init__(engine)
        _use_wal(path)
        self._path = path
        self._checkpoint_every = checkpoint_every
        self._commits = 0
        self._engines = (_engine(path, writer=False), _engine(path, writer=True))
        # Held open once made: a pool checkout per statement would cost more than the statement.
        self._reads: Connection | None = None
        self._writes: Connection | None = None
        self._queued: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def read(self, work: Callable[[Connection], T]) -> T:
        """Run `work`'s SELECTs now, each its own read transaction (busy: on the engine)."""
        try:
            if self._reads is None:
                self._reads = self._engines[0].connect()
            try:
                return work(self._reads)
            finally:
                self._reads.rollback()  # only SQLAlchemy's bookkeeping: the driver autocommits
        except OperationalError as error:
            if not _is_busy(error):
                raise
        return await self.scan(work)

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in the next write transaction; returns once that committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((work, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued())
        return await future

    async def _write_queued(self) -> None:
        try:
            while self._queued:
                await self._take_lock()
                batch, self._queued = self._queued, []
                self._run_batch(batch)
                self._commits += 1
                if self._commits % self._checkpoint_every == 0:
                    # This connection's writes wait for it (the loop does not), so it copies
                    # the whole WAL and the next write starts the WAL from its beginning;
                    # a checkpoint that raced the writes would leave the WAL growing.
                    await self._checkpoint()
        except BaseException as error:  # the lock never came (or the loop is closing)
            for _, future in self._queued:
                if not future.done():
                    future.set_exception(error)
            self._queued = []
            raise
        finally:
            self._writer = None

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file, off the loop; best effort, like SQLite's own."""
        try:
            await asyncio.to_thread(_passive_checkpoint, self._path)
        except sqlite3.Error as error:
            log.warning("WAL checkpoint of %s failed: %s", self._path, error)

    async def _take_lock(self) -> None:
        """BEGIN IMMEDIATE, tried until no other writer holds the database."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BUSY_GIVE_UP_SECONDS
        pause = _FIRST_PAUSE
        while not self._try_lock():
            if loop.time() > give_up:
                raise TimeoutError(f"SQLite stayed locked for {BUSY_GIVE_UP_SECONDS:g} s")
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    def _try_lock(self) -> bool:
        """BEGIN IMMEDIATE once: False if another writer holds the database."""
        try:
            self._driver().execute("BEGIN IMMEDIATE")
        except OperationalError as error:
            if _is_busy(error):
                return False  # the connection itself could not be set up yet
            raise
        except sqlite3.OperationalError as error:
            if _is_busy_message(str(error)):
                return False
            raise
        return True

    def _writer_connection(self) -> Connection:
        if self._writes is None:
            self._writes = self._engines[1].connect()
        return self._writes

    def _driver(self) -> sqlite3.Connection:
        driver = self._writer_connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver

    def _run_batch(self, batch: list[_Queued]) -> None:
        """Run the queued writes under the lock just taken; each caller learns its outcome."""
        works = [work for work, _ in batch]
        driver = self._driver()
        committed = False
        try:
            outcomes = run_batch(self._writer_connection(), works)
            committed = True
        except BaseException as error:
            outcomes = [(False, error)] * len(works)
        finally:
            if driver.in_transaction:  # SQLAlchemy began nothing, so it ended nothing
                driver.execute("COMMIT" if committed else "ROLLBACK")
        settle([future for _, future in batch], outcomes)

    async def _close(self) -> None:
        """Close both connections."""
        for connection, engine in zip((self._reads, self._writes), self._engines, strict=True):
            if connection is not None:
                connection.close()
            engine.dispose()


def _use_wal(path: str) -> None:
    """Put the file in WAL mode (it stays so), where readers and the one writer never wait.

    Switching a new file needs it to itself, and SQLite answers "database is locked" at
    once, without its busy handler, while another process (a worker or the API starting
    beside this one) holds it: so ask until the file is in WAL mode, for as long as a
    writer waits for the lock."""
    deadline = time.monotonic() + BUSY_GIVE_UP_SECONDS
    while True:
        try:
            with closing(sqlite3.connect(path, timeout=BUSY_GIVE_UP_SECONDS)) as connection:
                if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    connection.execute("PRAGMA journal_mode=WAL").fetchall()
                return
        except sqlite3.OperationalError as error:
            if not _is_busy_message(str(error)) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _passive_checkpoint(path: str) -> None:
    with closing(sqlite3.connect(path, timeout=5)) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _is_busy(error: OperationalError) -> bool:
    return isinstance(error.orig, sqlite3.OperationalError) and _is_busy_message(str(error.orig))


def _is_busy_message(message: str) -> bool:
    return "locked" in message or "busy" in message


def _engine(path: str, *, writer: bool) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=StaticPool,  # one connection, used only from the loop thread
        connect_args={"timeout": 0, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN: reads autocommit, writes say so
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        if writer:
            dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")
            # As the engine's connections (store.engine): in WAL mode no fsync per commit, which
            # would hold the lock and stall the loop for ~0.25 ms; a crash cannot corrupt.
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")
        else:
            dbapi_conn.execute("PRAGMA query_only=ON")

    return engine
