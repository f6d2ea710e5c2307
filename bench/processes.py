"""The benchmarks' stack: the same process stack the end-to-end tests run, one worker."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.stack import BenchStack
from store.engine import open_store
from tests.e2e.stack import TOKENS, running_stack


@asynccontextmanager
async def bench_stack(
    data_dir: Path, policy: Path, database_url: str | None = None
) -> AsyncIterator[BenchStack]:
    """Dev server, one worker and the API as processes; the store opened for direct reads.

    The store is SQLite in `data_dir` unless `database_url` names another (PostgreSQL)."""
    async with running_stack(data_dir, 1, policy, database_url) as running:
        store = open_store(database_url or f"sqlite+aiosqlite:///{data_dir / 'keycase.db'}")
        try:
            yield BenchStack(
                api_url=running.api_url,
                tokens=dict(TOKENS),
                temporal=running.temporal,
                store=store,
                pids={
                    "temporal server": running.server.process.pid,
                    **{w.name: w.process.pid for w in running.workers},
                    "api": running.api_process.process.pid,
                },
            )
        finally:
            await store.close()
