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

from sqlalchemy import Connection, make_url

from domain.activity_io import AuditFact
from domain.gateway import KeyView, decide
from domain.keys import KeyStatus, Permission
from domain.network import normalise_whitelist
from store.access import decide_access, key_view
from store.accounts import upsert_account
from store.audit import append_facts, verify
from store.engine import open_store
from store.migrate import upgrade
from store.registry import register_key
from tests.store.databases import drop_postgres_schema, postgres_schema

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
    store = open_store(url)

    def setup(connection: Connection) -> None:
        upsert_account(connection, account_id="acc", email="a@example.com", phone="+821012345678")
        register_key(
            connection,
            key_id="key",
            account_id="acc",
            exchange="upbit",
            permissions=["read"],
            allowed_ips=WHITELIST,
        )

    await store.write(setup)

    async def lookup(i: int) -> object:
        view = await store.read(lambda c: key_view(c, "key"))
        return decide(view, ADDRESSES[i % len(ADDRESSES)], Permission.READ, datetime.now(UTC))

    async def logged(i: int) -> object:
        view = await store.read(lambda c: key_view(c, "key"))
        ip = ADDRESSES[i % len(ADDRESSES)]
        decision, entry = decide_access(view, "key", ip, "read", datetime.now(UTC))
        store.log_access(entry)
        return decision

    async def logged_and_flushed(i: int) -> object:
        decision = await logged(i)
        if i % writers == writers - 1:
            await store.flush()  # the rows count, not only the answers
        return decision

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
            batch = facts(prefix, i, size)
            return await store.write(lambda c: append_facts(c, batch, datetime.now(UTC)))

        return one

    await _timed("key lookup + decision", requests, 1, lookup)
    await _timed("authorize + access log, 1 caller", requests, 1, logged_and_flushed)
    await _timed(f"authorize + access log, {writers} callers", requests, writers, logged)
    await store.flush()
    await _timed("audit append, 1 writer", appends, 1, await append("a", 1))
    await _timed(f"audit append, {writers} writers", appends, writers, await append("b", 1))
    batches = appends // 10
    started = time.perf_counter()
    await _timed("audit append, 10 facts per commit", batches, 1, await append("c", 10))
    print(f"  {'  = facts':<32} {_rate(batches * 10, time.perf_counter() - started)}")
    started = time.perf_counter()
    report = await store.scan(verify)
    assert report.ok, report
    print(f"  {'verify (rows)':<32} {_rate(report.rows_checked, time.perf_counter() - started)}")
    await store.close()


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
