"""The store's engines, and `open_store`: the one call that makes a process's store."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.port import Store
from store.postgres import PostgresStore
from store.sqlite import SqliteStore, sqlite_file


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # No pre-ping: it cost every checkout a round trip (a third of a read's). Connections
    # are recycled before a server or proxy idle timeout would drop them, and a read that
    # meets a dead one anyway is tried once more on a fresh one (store.postgres).
    return create_async_engine(url, pool_recycle=300, **kwargs)


def open_store(url: str) -> Store:
    """The store at `url`: a SQLite file in the event loop, else PostgreSQL's group commit."""
    engine = make_engine(url)
    if engine.dialect.name != "sqlite":
        return PostgresStore(engine)
    path = sqlite_file(engine)
    if path is None:
        raise ValueError(f"the SQLite store needs a database file, not {url!r}")
    return SqliteStore(engine, path)
