"""Gateway decisions and audit appends per second, in process, on SQLite and PostgreSQL.

    python -m bench.store                        # SQLite; PostgreSQL too when
    KEYCASE_TEST_POSTGRES_URL=postgresql+psycopg://... python -m bench.store
    python -m bench.store --requests 5000 --appends 5000 --writers 8

PostgreSQL runs in a throw-away schema, so the target database keeps nothing.
"""

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.effects import AuditFact
from domain.gateway import KeyView, decide
from domain.keys import KeyStatus, Permission
from domain.network import normalise_whitelist
from store.access import authorize, load_view
from store.accounts import upsert_account
from store.audit import append_facts, verify
from store.engine import make_engine, make_sessionmaker
from store.migrate import upgrade
from store.registry import register_key
from store.uow import run_write
from tests.store.databases import drop_postgres_schema, postgres_schema

Sessions = async_sessionmaker[AsyncSession]
WHITELIST = normalise_whitelist(
    [f"203.0.113.{i}" for i in range(4)]
    + ["198.51.100.0/24", "10.20.0.0/16", "2001:db8:1::/48", "2001:db8:2::1", "192.0.2.0/28"]
)
# Allowed, mapped, outside, IPv6 inside and outside, garbage.
ADDRESSES = [
    "198.51.100.9",
    "::ffff:10.20.3.4",
    "203.0.114.1",
    "2001:db8:1::7",
    "2001:db8:3::1",
    "x",
]


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f} /s  ({count:,} in {seconds:.2f}s)"


def bench_pure(count: int) -> None:
    """The decision alone: parse, match against ten entries, check the permission."""
    key = KeyView("k", "a", KeyStatus.ACTIVE, (Permission.READ,), tuple(WHITELIST))
    now = datetime.now(UTC)
    started = time.perf_counter()
    for i in range(count):
        decide(key, ADDRESSES[i % len(ADDRESSES)], Permission.READ, now)
    print(f"  gateway decision (pure)          {_rate(count, time.perf_counter() - started)}")


async def _timed(
    label: str, count: int, writers: int, one: Callable[[int], Awaitable[object]]
) -> None:
    async def worker(first: int) -> None:
        for i in range(first, count, writers):
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(writers)))
    print(f"  {label:<32} {_rate(count, time.perf_counter() - started)}")


async def bench_database(url: str, requests: int, appends: int, writers: int) -> None:
    engine = (
        make_engine(url, pool_size=writers + 2)
        if url.startswith("postgresql")
        else make_engine(url)
    )
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await upsert_account(
            session, account_id="acc", email="a@example.com", phone="+821012345678"
        )
        await register_key(
            session,
            key_id="key",
            account_id="acc",
            exchange="upbit",
            permissions=["read"],
            allowed_ips=WHITELIST,
        )
        await session.commit()

    async def lookup(i: int) -> object:
        async with sessions() as session:
            view = await load_view(session, "key")
        return decide(view, ADDRESSES[i % len(ADDRESSES)], Permission.READ, datetime.now(UTC))

    async def logged(i: int) -> object:
        ip = ADDRESSES[i % len(ADDRESSES)]
        return await run_write(sessions, lambda s: authorize(s, "key", ip, "read"))

    def facts(prefix: str, i: int, size: int) -> list[AuditFact]:
        now = datetime.now(UTC)
        return [
            AuditFact(
                event_id=f"{prefix}{i}.{j}",
                event_type="bench",
                key_id="key",
                occurred_at=now,
                payload={"i": i},
            )
            for j in range(size)
        ]

    async def append(prefix: str, size: int) -> Callable[[int], Awaitable[object]]:
        async def one(i: int) -> object:
            return await run_write(
                sessions, lambda s: append_facts(s, facts(prefix, i, size), datetime.now(UTC))
            )

        return one

    await _timed("key lookup + decision", requests, 1, lookup)
    await _timed("authorize + access log, 1 caller", requests, 1, logged)
    await _timed(f"authorize + access log, {writers} callers", requests, writers, logged)
    await _timed("audit append, 1 writer", appends, 1, await append("a", 1))
    await _timed(f"audit append, {writers} writers", appends, writers, await append("b", 1))
    batches = appends // 10
    started = time.perf_counter()
    await _timed("audit append, 10 facts per commit", batches, 1, await append("c", 10))
    print(f"  {'  = facts':<32} {_rate(batches * 10, time.perf_counter() - started)}")
    async with sessions() as session:
        started = time.perf_counter()
        report = await verify(session)
    assert report.ok, report
    print(f"  {'verify (rows)':<32} {_rate(report.rows_checked, time.perf_counter() - started)}")
    await engine.dispose()


def main() -> None:
    """Run every figure on each available backend."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--appends", type=int, default=3_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get("KEYCASE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"keycase store benchmark ({os.cpu_count()} cores)")
    bench_pure(args.decisions)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        print("SQLite (file, WAL)")
        asyncio.run(bench_database(url, args.requests, args.appends, args.writers))
    if not args.postgres:
        print("PostgreSQL: skipped (set KEYCASE_TEST_POSTGRES_URL or pass --postgres URL)")
        return
    schema, url = postgres_schema(args.postgres)
    try:
        upgrade(url)
        print(f"PostgreSQL ({make_url(args.postgres).host})")
        asyncio.run(bench_database(url, args.requests, args.appends, args.writers))
    finally:
        drop_postgres_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
