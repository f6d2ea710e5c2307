"""Rings on the running stack: one officer action fanned out to every member case of a ring.

A ring of `members` accounts is formed over HTTP (each spoke's alert names the hub's key in
`related_keys`); then the same cases take one note each from the API directly (the
baseline: what an officer's script would do, 16 connections) and one `assign` on the ring,
which the ring's workflow fans out as each case's own update.
"""

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from bench.figures import Report
from bench.loadgen import Connection, Request, closed_loop
from bench.population import BenchKey, register
from bench.stack import BenchStack
from domain.rings.ring import ring_workflow_id

TARGET_SECONDS = 10.0


def _alert(key: BenchKey, related: BenchKey, n: int) -> Request:
    body = {
        "alert_id": f"bench-ring-{key.key_id}-{n}",
        "key_id": key.key_id,
        "account_id": key.account_id,
        "exchange": key.exchange,
        "kind": "coordinated_activity",
        "severity": "medium",
        "observed_at": datetime.now(UTC).isoformat(),
        "evidence": {"related_keys": [related.key_id]},
    }
    return Request("POST", "/v1/alerts", body)


async def _get(conn: Connection, path: str) -> Any:
    status, body = await conn.request(Request("GET", path))
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


async def _formed(officer: Connection, accounts: set[str], members: int) -> dict[str, Any]:
    """The ring once every member's case is known to it."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        page = await _get(officer, f"/v1/rings?exchange=upbit&min_size={members}")
        for listed in page["rings"]:
            ring: dict[str, Any] = await _get(officer, f"/v1/rings/{listed['ring_id']}")
            cased = [k for m in ring["members"] for k in m["keys"] if k["case_id"]]
            if {m["account_id"] for m in ring["members"]} == accounts and len(cased) == members:
                return ring
        await asyncio.sleep(0.5)
    raise RuntimeError("the ring did not form with every member's case within 120 s")


async def fan_out(stack: BenchStack, report: Report, members: int) -> None:
    """Wall time of one ring action against the same updates sent case by case."""
    name = "rings"
    run = f"{time.time_ns() % 10**8:08d}"
    keys = [
        BenchKey(f"bench-ring-{run}-{n}", f"bench-ringacct-{run}-{n}", "upbit")
        for n in range(members)
    ]
    await register(stack.api_url, stack.tokens["admin"], keys)
    hub = keys[0]
    alerts = [_alert(k, hub, n) for n, k in enumerate(keys[1:], 1)] + [_alert(hub, keys[1], 0)]
    sent = await closed_loop(
        stack.api_url, stack.tokens["surveillance"], alerts.__getitem__, len(alerts), 4
    )
    if set(sent.statuses) != {202}:
        raise RuntimeError(f"alerts refused: {sent.statuses}")
    officer = Connection(stack.api_url, stack.tokens["officer"])
    try:
        ring = await _formed(officer, {k.account_id for k in keys}, members)
        cases = [k["case_id"] for m in ring["members"] for k in m["keys"]]
        note = {"reason": "bench", "text": "one by one"}
        direct = await closed_loop(
            stack.api_url,
            stack.tokens["officer"],
            lambda n: Request("POST", f"/v1/cases/{cases[n]}/actions/note", note),
            len(cases),
            16,
        )
        began = time.perf_counter()
        status, body = await officer.request(
            Request(
                "POST",
                f"/v1/rings/{ring['ring_id']}/actions/assign",
                {"reason": "bench", "assignee": "bench-desk"},
            )
        )
        elapsed = time.perf_counter() - began
    finally:
        await officer.close()
    if status != 200:
        raise RuntimeError(f"ring action: {status} {body[:300]!r}")
    answer = json.loads(body)
    history = await stack.temporal.get_workflow_handle(
        ring_workflow_id(ring["ring_id"])
    ).fetch_history()
    applied = answer["applied"]
    for refused in [m for m in answer["members"] if not m["applied"]][:5]:
        print(f"  refused: {refused['case_id']}: {refused['status']} {refused['message']}")
    report.add(name, "member cases updated by one ring action", applied, f"of {members}")
    report.add(
        name,
        f"one assign fanned out to {members} member cases, wall time",
        elapsed,
        "s",
        f"<= {TARGET_SECONDS:g}",
        applied == members and elapsed <= TARGET_SECONDS,
    )
    report.add(name, f"{members} notes sent case by case (16 connections)", direct.elapsed, "s")
    report.add(name, "ring fan-out / case by case", elapsed / direct.elapsed, "ratio")
    report.add(
        name,
        f"ring history events ({members} members joining, one action)",
        len(history.events),
        "events",
    )
