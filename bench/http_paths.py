"""The API's hot paths under load: time to act on an alert, alert intake, gateway decisions."""

import asyncio
import time
from functools import partial

import sqlalchemy
from sqlalchemy import select

from bench.baseline import alerts_signal_with_start_per_second, signal_with_start_per_second
from bench.cases import raise_alerts
from bench.figures import Report, percentile
from bench.loadgen import Connection, Request, closed_loop, open_loop
from bench.population import BenchKey, new_keys, register
from bench.stack import BenchStack
from domain.alerts import Alert
from domain.ids import TASK_QUEUE
from store.models import ApiKey
from tests.alert_bodies import alert_body

FLAGGED = ("MONITORED", "RESTRICTED", "EXPIRED")


async def time_to_act(
    stack: BenchStack, report: Report, alerts: int, rate: float = 10, burst: int = 0
) -> None:
    """Alerts at a steady rate: time from the API's 202 to the key flagged in the registry.

    With `burst`, that many high-severity expiry cases are raised first and run meanwhile
    (the stack at its full case capacity); a 503 answer is counted, never waited out.
    """
    keys = new_keys("act", alerts)
    busy = new_keys("act-burst", burst)
    await register(stack.api_url, stack.tokens["admin"], keys + busy)
    burst_task = asyncio.create_task(
        raise_alerts(stack, [alert_body(k, "high") for k in busy], connections=8)
    )
    accepted: dict[str, float] = {}
    flagged: dict[str, float] = {}
    answers: list[float] = []
    shed = 0
    sent_all = asyncio.Event()
    watching = asyncio.create_task(_watch_flags(stack, accepted, flagged, sent_all))
    conn = Connection(stack.api_url, stack.tokens["surveillance"])
    started = time.perf_counter()
    for n, key in enumerate(keys):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        status, body = await conn.request(Request("POST", "/v1/alerts", alert_body(key, "medium")))
        answers.append(time.perf_counter() - sent)
        if status == 503:
            shed += 1
            continue
        if status != 202:
            raise RuntimeError(f"alert refused: {status} {body!r}")
        accepted[key.key_id] = time.perf_counter()
    await conn.close()
    sent_all.set()
    await asyncio.wait_for(watching, timeout=120)
    await burst_task
    lags = [flagged[k] - accepted[k] for k in accepted]
    name = "time to act under load" if burst else "time to act"
    if burst:
        report.add(name, "expiry cases running", burst, "cases")
    report.add(name, f"alerts at {rate:g}/s", len(lags), "alerts")
    report.add(name, "answered 503 (Retry-After)", shed, "alerts")
    report.add(name, "intake answer p99", percentile(answers, 99) * 1000, "ms")
    report.add(name, "accept → flagged p50", percentile(lags, 50) * 1000, "ms")
    p99 = percentile(lags, 99)
    report.add(name, "accept → flagged p99", p99 * 1000, "ms", "<= 1000", p99 <= 1.0)


async def _watch_flags(
    stack: BenchStack,
    accepted: dict[str, float],
    flagged: dict[str, float],
    sent_all: asyncio.Event,
) -> None:
    """Poll the registry every 10 ms for accepted keys until every one shows as flagged."""
    while not sent_all.is_set() or len(flagged) < len(accepted):
        waiting = [k for k in accepted if k not in flagged]
        if waiting:
            rows = await stack.store.read(partial(_flagged, key_ids=waiting))
            seen = time.perf_counter()
            for key_id in rows:
                flagged[key_id] = seen
        await asyncio.sleep(0.01)


def _flagged(connection: sqlalchemy.Connection, key_ids: list[str]) -> list[str]:
    query = select(ApiKey.key_id).where(ApiKey.key_id.in_(key_ids), ApiKey.status.in_(FLAGGED))
    return list(connection.scalars(query))


async def intake(stack: BenchStack, report: Report, alerts: int, keys: int) -> None:
    """Alerts accepted per second (new keys, repeats, duplicates) vs signal-with-start alone.

    Like for like, the baseline sends the same mix of alerts straight into the cases with the
    API's own signal-with-start call, while the worker runs them as usual; the API's share is
    its HTTP handling, the claim and the settle. Signal-with-start onto workflows that no
    worker runs is shown too: it is the server's bare ceiling, with no case work at all.
    """
    pool, direct_pool = new_keys("intake", keys), new_keys("intake-direct", keys)
    await register(stack.api_url, stack.tokens["admin"], pool + direct_pool)
    connections = 16
    api_rate = await raise_alerts(stack, _intake_mix(pool, alerts), connections)
    direct = [Alert.model_validate(body) for body in _intake_mix(direct_pool, alerts)]
    direct_rate = await alerts_signal_with_start_per_second(
        stack.temporal, direct, TASK_QUEUE, connections
    )
    raw_rate = await signal_with_start_per_second(stack.temporal, alerts, keys, connections)
    name = "alert intake"
    report.add(name, "POST /v1/alerts per second", api_rate, "alerts/s")
    report.add(
        name, "signal-with-start into the cases per second (baseline)", direct_rate, "calls/s"
    )
    ratio = api_rate / direct_rate
    report.add(name, "API / signal-with-start", ratio, "ratio", ">= 0.8", ratio >= 0.8)
    report.add(name, "signal-with-start, no worker, per second", raw_rate, "calls/s")
    report.add(name, "API / signal-with-start with no worker", api_rate / raw_rate, "ratio")


def _intake_mix(pool: list[BenchKey], alerts: int) -> list[dict[str, object]]:
    """Alerts spread over `pool`; every fifth is a redelivery of one sent three before."""
    bodies: list[dict[str, object]] = []
    for n in range(alerts):
        if n % 5 == 4:
            bodies.append(bodies[n - 3])
        else:
            bodies.append(alert_body(pool[n % len(pool)], "low"))
    return bodies


async def gateway(stack: BenchStack, report: Report, requests: int, seconds: float) -> None:
    """Gateway decisions: throughput vs the cheapest authenticated read, and p99 at 500/s."""
    keys = new_keys("gw", 50)
    await register(stack.api_url, stack.tokens["admin"], keys)

    def decide(n: int) -> Request:
        ip = f"198.51.100.{n % 250}" if n % 3 else f"203.0.113.{n % 250}"
        return Request(
            "POST", f"/v1/keys/{keys[n % 50].key_id}/authorize", {"ip": ip, "permission": "trade"}
        )

    def read(n: int) -> Request:
        return Request("GET", f"/v1/keys/{keys[n % 50].key_id}")

    name = "gateway"
    cheapest = await closed_loop(stack.api_url, stack.tokens["officer"], read, requests, 8)
    decisions = await closed_loop(stack.api_url, stack.tokens["gateway"], decide, requests, 8)
    for result in (cheapest, decisions):
        if set(result.statuses) != {200}:
            raise RuntimeError(f"gateway benchmark got {result.statuses}")
    report.add(name, "authorize per second (8 connections)", decisions.per_second, "req/s")
    report.add(name, "GET /v1/keys/{id} per second (baseline)", cheapest.per_second, "req/s")
    ratio = decisions.per_second / cheapest.per_second
    report.add(name, "authorize / cheapest", ratio, "ratio", ">= 0.7", ratio >= 0.7)

    paced = await open_loop(stack.api_url, stack.tokens["gateway"], decide, 500, seconds)
    report.add(name, "authorize offered at 500/s, served", paced.per_second, "req/s")
    p99 = percentile(paced.latencies, 99) * 1000
    report.add(name, "authorize p99 at 500/s", p99, "ms", "<= 5", p99 <= 5)
