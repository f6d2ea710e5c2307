"""Cases through faults: workers SIGKILLed, the dev server restarted, providers failing.

Cases run on three paths (deadline → EXPIRED, KYC passed → RESTORED, officer dismiss →
DISMISSED) through two worker processes while one worker after another is SIGKILLed and
replaced, the dev server is restarted once on the same file, SendGrid answers 500 and
Twilio 429 with `Retry-After` for a while. Afterwards every case must have reached its
end, no (case, notice, channel) may have reached a fake provider twice, every expired key
must be denied by `authorize`, and the audit chain must verify.
"""

import asyncio
import itertools
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench.figures import Report
from tests.alert_bodies import alert_body
from tests.e2e.stack import RunningStack, running_stack
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.workflows.conftest import history_tail

PATHS = {"critical": "EXPIRED", "high": "RESTORED", "medium": "DISMISSED"}
CASE_WAIT_SECONDS = 300.0  # a killed worker's notice waits out its 2-minute attempt timeout
_RETRYABLE = (httpx.TransportError, httpx.HTTPStatusError)


@dataclass
class FaultRun:
    """What a run through faults found."""

    cases: int
    faults: int = 0
    ended: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)  # cases that missed their end
    duplicated: int = 0  # messages a provider got more than once for one outbox row
    expired_allowed: list[str] = field(default_factory=list)
    chain_ok: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class _Key:
    key_id: str
    account_id: str
    exchange: str = "upbit"


async def run_faults(
    data_dir: Path, cases: int, kills: int, database_url: str | None = None
) -> FaultRun:
    """Start a stack of its own in `data_dir` and run `cases` cases through the faults."""
    settle = {"KEYCASE_NOTICE_SETTLE_WINDOW": "PT5S"}  # a lost SendGrid call is resent soon
    async with running_stack(
        data_dir, 2, database_url=database_url, extra_env=settle, sendgrid_feed=True
    ) as stack:
        return await _through_faults(stack, cases, kills)


async def _through_faults(stack: RunningStack, cases: int, kills: int) -> FaultRun:
    run = FaultRun(cases)
    severities = list(itertools.islice(itertools.cycle(PATHS), cases))
    run.expected = Counter(PATHS[s] for s in severities)
    started = time.perf_counter()
    stack.sendgrid.script(*[sg.server_error() for _ in range(4)])
    stack.twilio.script(*[tw.rate_limited(1.0) for _ in range(4)])
    scripted = stack.sendgrid.unplayed + stack.twilio.unplayed
    keys = [await _register(stack, n) for n in range(cases)]
    drivers = [
        asyncio.create_task(_drive(stack, key, severity))
        for key, severity in zip(keys, severities, strict=True)
    ]
    run.faults = await _inject(stack, kills)
    ends = await asyncio.gather(*drivers)
    run.seconds = time.perf_counter() - started
    run.faults += scripted - stack.sendgrid.unplayed - stack.twilio.unplayed
    for key, severity, end in zip(keys, severities, ends, strict=True):
        run.ended[end] += 1
        if end != PATHS[severity]:
            run.lost.append(f"{key.key_id}: {end}, expected {PATHS[severity]}")
            print(f"{key.key_id} stalled; its latest run's history ends:", flush=True)
            print(await history_tail(stack.temporal, f"keycase-{key.key_id}"), flush=True)
        elif end == "EXPIRED" and await _allowed(stack, key):
            run.expired_allowed.append(key.key_id)
    run.duplicated = _duplicates(stack)
    verified = await _retrying(lambda: _get(stack, "auditor", "/v1/audit/verify"))
    run.chain_ok = bool(verified["ok"])
    return run


def report_faults(report: Report, run: FaultRun) -> None:
    """The run's figures, with the ones that must hold marked as targets."""
    name = "faults"
    lost, duplicated = len(run.lost), run.duplicated
    report.add(name, "cases", run.cases, "cases")
    report.add(name, "faults injected", run.faults, "faults")
    report.add(name, "cases lost (missed their end)", lost, "cases", "= 0", lost == 0)
    report.add(name, "duplicate messages", duplicated, "messages", "= 0", duplicated == 0)
    allowed = len(run.expired_allowed)
    report.add(name, "expired keys still allowed", allowed, "keys", "= 0", allowed == 0)
    report.add(name, "audit chain verifies", int(run.chain_ok), "bool", "= 1", run.chain_ok)
    report.add(name, "wall time", run.seconds, "s")


async def scenario(report: Report, cases: int, kills: int) -> None:
    """The benchmark: a stack of its own, so that killing its processes spares the others."""
    with tempfile.TemporaryDirectory(prefix="keycase-faults-") as tmp:
        run = await run_faults(Path(tmp), cases, kills)
    print(f"ended by stage: {dict(run.ended)}; lost: {run.lost}", flush=True)
    report_faults(report, run)


async def _inject(stack: RunningStack, kills: int) -> int:
    """Kill and replace a worker `kills` times, restarting the dev server once midway."""
    faults = 0
    for n in range(kills):
        await asyncio.sleep(2.0)
        stack.kill_worker(n % len(stack.workers))
        faults += 1
        if n == kills // 2:
            await stack.restart_server()
            faults += 1
    return faults


async def _register(stack: RunningStack, n: int) -> _Key:
    key = _Key(f"key-fault-{n}", f"acct-fault-{n}")
    account = {
        "account_id": key.account_id,
        "email": f"fault{n}@example.com",
        "phone": f"+8210444{n:05d}",
    }
    body = {
        "key_id": key.key_id,
        "account_id": key.account_id,
        "exchange": key.exchange,
        "permissions": ["read", "trade"],
        "allowed_ips": ["203.0.113.0/24"],
    }
    await _retrying(lambda: _post(stack, "admin", "/v1/accounts", account))
    await _retrying(lambda: _post(stack, "admin", "/v1/keys", body))
    return key


async def _drive(stack: RunningStack, key: _Key, severity: str) -> str:
    """Take one case along its path; its final stage (or the last one seen, if it stalled)."""
    opened = await _retrying(
        lambda: _post(stack, "surveillance", "/v1/alerts", alert_body(key, severity))
    )
    case_id = str(opened["case_id"])
    if severity == "high":
        await _until(stack, case_id, {"AWAITING_KYC"})
        kyc = {"passed": True, "reference": f"kyc-{key.key_id}"}
        await _retrying(lambda: _post(stack, "kyc", f"/v1/cases/{case_id}/kyc", kyc))
    elif severity == "medium":
        await _until(stack, case_id, {"MONITORING"})
        action = f"/v1/cases/{case_id}/actions/dismiss"
        await _retrying(lambda: _post(stack, "officer", action, {"reason": "fault drill"}))
    return await _until(stack, case_id, {PATHS[severity]})


async def _until(stack: RunningStack, case_id: str, stages: set[str]) -> str:
    deadline = asyncio.get_running_loop().time() + CASE_WAIT_SECONDS
    stage = "unknown"
    while asyncio.get_running_loop().time() < deadline:
        try:
            case = await _get(stack, "officer", f"/v1/cases/{case_id}")
        except _RETRYABLE:
            case = {}
        stage = str(case.get("stage", stage))
        if stage in stages and not (stage == "RESTORED" and case.get("key_status") != "ACTIVE"):
            return stage
        await asyncio.sleep(0.5)
    return stage


async def _allowed(stack: RunningStack, key: _Key) -> bool:
    path = f"/v1/keys/{key.key_id}/authorize"
    decision = await _retrying(
        lambda: _post(stack, "gateway", path, {"ip": "203.0.113.9", "permission": "trade"})
    )
    return bool(decision["allowed"])


def _duplicates(stack: RunningStack) -> int:
    """Messages beyond the first that a provider accepted for the same outbox row."""
    rows = Counter(m.custom_args.get("outbox_id") for m in stack.sendgrid.accepted)
    for sms in stack.twilio.accepted:
        query = parse_qs(urlsplit(sms.status_callback or "").query)
        rows[query.get("outbox_id", [None])[0]] += 1
    return sum(count - 1 for row, count in rows.items() if row is not None and count > 1)


async def _post(stack: RunningStack, role: str, path: str, body: dict[str, Any]) -> Any:
    async with stack.http(role) as client:
        response = await client.post(path, json=body)
    return _answer(response)


async def _get(stack: RunningStack, role: str, path: str) -> Any:
    async with stack.http(role) as client:
        response = await client.get(path)
    return _answer(response)


def _answer(response: httpx.Response) -> Any:
    if response.status_code >= 500:  # 503 while the dev server restarts: retried
        response.raise_for_status()
    if response.is_error:
        raise RuntimeError(f"{response.request.url.path}: {response.status_code} {response.text}")
    return response.json()


async def _retrying(call: Callable[[], Awaitable[Any]], seconds: float = 120.0) -> Any:
    """`call` again until it answers, for the outages this benchmark causes on purpose."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await call()
        except _RETRYABLE:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
