"""The gateway at its physical limit: in-process replicas fed by keycase's change feed.

Several `keycase_gateway` replicas follow the stack's API while keys change two ways at
once: high-severity cases expire half the keys through the worker, an admin replaces the
other half's whitelists through the API. A change's propagation is from its commit
(`key_changes.changed_at`) to the moment a replica holds it, for every replica.
"""

import asyncio
import time
from datetime import datetime

from sqlalchemy import Connection, select

from bench.cases import raise_alerts
from bench.figures import Report, percentile
from bench.loadgen import Request, closed_loop
from bench.population import BenchKey, new_keys, register
from bench.stack import BenchStack
from domain.keys import KeyStatus, Permission
from keycase_gateway import GatewayClient
from store.models import KeyChange
from tests.alert_bodies import alert_body

NEW_WHITELIST = ["192.0.2.0/24"]
ADDRESSES = ("198.51.100.7", "::ffff:198.51.100.8", "203.0.113.9", "2001:db8::1", "garbage")
WATCH_SECONDS = 120.0


async def replicas(stack: BenchStack, report: Report, keys: int, replicas: int = 4) -> None:
    """Decision time in process, and change propagation to `replicas` replicas."""
    population = new_keys("replica", keys)
    await register(stack.api_url, stack.tokens["admin"], population)
    clients = [GatewayClient(stack.api_url, stack.tokens["gateway"]) for _ in range(replicas)]
    for client in clients:
        await client.start()
    try:
        await asyncio.gather(*(c.wait_caught_up(WATCH_SECONDS) for c in clients))
        _decision_time(report, clients[0], population)
        await _propagation(stack, report, clients, population)
    finally:
        for client in clients:
            await client.close()


def _decision_time(report: Report, client: GatewayClient, keys: list[BenchKey]) -> None:
    total = 50_000
    questions = [(keys[n % len(keys)].key_id, ADDRESSES[n % len(ADDRESSES)]) for n in range(total)]
    decide, trade = client.decide, Permission.TRADE
    started = time.perf_counter()
    for key_id, ip in questions:
        decide(key_id, ip, trade)
    mean = (time.perf_counter() - started) / total * 1e6
    samples: list[float] = []
    for key_id, ip in questions:
        before = time.perf_counter_ns()
        decide(key_id, ip, trade)
        samples.append((time.perf_counter_ns() - before) / 1000)
    name = "gateway replica"
    report.add(name, "in-process decisions (each loop)", total, "decisions")
    report.add(name, "decision mean", mean, "µs")
    p99 = percentile(samples, 99)
    report.add(name, "decision p99", p99, "µs", "<= 10", p99 <= 10)


async def _propagation(
    stack: BenchStack, report: Report, clients: list[GatewayClient], keys: list[BenchKey]
) -> None:
    half = len(keys) // 2
    expiring, rewhitelisted = keys[:half], keys[half:]
    seen: dict[tuple[int, str], float] = {}  # (replica, key) -> wall clock it held the change
    watching = asyncio.create_task(_watch(clients, expiring, rewhitelisted, seen))
    await raise_alerts(stack, [alert_body(k, "high") for k in expiring], connections=4)
    changes = await closed_loop(
        stack.api_url,
        stack.tokens["admin"],
        lambda n: Request(
            "PUT",
            f"/v1/keys/{rewhitelisted[n].key_id}/allowed-ips",
            {"allowed_ips": NEW_WHITELIST},
        ),
        len(rewhitelisted),
        1,
    )
    if set(changes.statuses) != {200}:
        raise RuntimeError(f"whitelist changes failed: {changes.statuses}")
    await asyncio.wait_for(watching, WATCH_SECONDS)
    committed = await stack.store.read(lambda c: _last_changes(c, [k.key_id for k in keys]))
    lags = [(at - committed[key].timestamp()) * 1000 for (_, key), at in seen.items()]
    name = "gateway replica"
    report.add(name, "replicas following the feed", len(clients), "replicas")
    report.add(name, "changes held by every replica", len(lags), f"of {len(keys) * len(clients)}")
    report.add(name, "change propagation p50", percentile(lags, 50), "ms")
    p99 = percentile(lags, 99)
    report.add(name, "change propagation p99", p99, "ms", "<= 1000", p99 <= 1000)


async def _watch(
    clients: list[GatewayClient],
    expiring: list[BenchKey],
    rewhitelisted: list[BenchKey],
    seen: dict[tuple[int, str], float],
) -> None:
    """Every 2 ms, note when each replica first holds each key's last change."""
    wanted = len(clients) * (len(expiring) + len(rewhitelisted))
    while len(seen) < wanted:
        now = time.time()
        for n, client in enumerate(clients):
            held = client.replica.keys
            for key in expiring:
                view = held.get(key.key_id)
                if (n, key.key_id) not in seen and view and view.status is KeyStatus.EXPIRED:
                    seen[n, key.key_id] = now
            for key in rewhitelisted:
                view = held.get(key.key_id)
                if (n, key.key_id) not in seen and view and list(view.allowed_ips) == NEW_WHITELIST:
                    seen[n, key.key_id] = now
        await asyncio.sleep(0.002)


def _last_changes(connection: Connection, key_ids: list[str]) -> dict[str, datetime]:
    """When each key's last change was committed."""
    query = select(KeyChange.key_id, KeyChange.changed_at).where(KeyChange.key_id.in_(key_ids))
    last: dict[str, datetime] = {}
    for key_id, changed_at in connection.execute(query.order_by(KeyChange.seq)):
        last[key_id] = changed_at
    return last
