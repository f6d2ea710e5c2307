"""keycase as separate processes for end-to-end tests: dev server, workers, API."""

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
from temporalio.client import Client

from local_stack.children import Child, Children
from local_stack.devserver import dev_server_command, wait_until_serving
from local_stack.readiness import api_answering, worker_polling
from tests.fakes.sendgrid_fake import FakeSendGrid
from tests.fakes.twilio_fake import FakeTwilio

POLICY = Path(__file__).with_name("policy.toml")
TOKENS = {
    "admin": "e2e-admin-token-0123456789",
    "surveillance": "e2e-surveillance-token-0123456789",
    "officer": "e2e-officer-token-0123456789",
    "kyc": "e2e-kyc-token-0123456789",
    "gateway": "e2e-gateway-token-0123456789",
    "auditor": "e2e-auditor-token-0123456789",
}
NAMES = {"admin": "ops", "surveillance": "feed", "officer": "kim", "kyc": "kyc-co"}
TWILIO_FROM = "+15005550006"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningStack:
    """What the tests reach: the API over HTTP, plus the processes and provider fakes."""

    api_url: str
    temporal: Client
    workers: list[Child]
    api_process: Child
    server: Child
    sendgrid: FakeSendGrid
    twilio: FakeTwilio
    logs: Path
    children: Children = field(repr=False)

    def http(self, role: str | None) -> httpx.AsyncClient:
        """An API client holding `role`'s token (None: no token at all)."""
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=30)


def _environment(
    data_dir: Path,
    grpc: str,
    api_port: int,
    sg: FakeSendGrid,
    tw: FakeTwilio,
    policy: Path,
    database_url: str | None,
) -> dict[str, str]:
    # Only what the test sets: a developer's KEYCASE_* variables must not leak in.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("KEYCASE_")}
    tokens = ",".join(f"{role}:{NAMES.get(role, role)}:{token}" for role, token in TOKENS.items())
    store = {"KEYCASE_DATABASE_URL": database_url} if database_url else {}
    return {
        **inherited,
        **store,
        "KEYCASE_DATA_DIR": str(data_dir),
        "KEYCASE_TEMPORAL_ADDRESS": grpc,
        "KEYCASE_API_PORT": str(api_port),
        "KEYCASE_PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "KEYCASE_API_TOKENS": tokens,
        "KEYCASE_POLICY_FILE": str(policy),
        "KEYCASE_SENDGRID_API_KEY": sg.api_key,
        "KEYCASE_SENDGRID_HOST": sg.url,
        "KEYCASE_TWILIO_ACCOUNT_SID": tw.account_sid,
        "KEYCASE_TWILIO_AUTH_TOKEN": tw.auth_token,
        "KEYCASE_TWILIO_FROM_NUMBER": TWILIO_FROM,
        "KEYCASE_TWILIO_BASE_URL": tw.url,
    }


async def _ready(child: Child, check: Awaitable[T], seconds: float) -> T:
    """Await `check` unless `child` dies or `seconds` pass first."""
    task = asyncio.ensure_future(check)
    deadline = asyncio.get_running_loop().time() + seconds
    while not task.done():
        if child.process.poll() is not None or asyncio.get_running_loop().time() > deadline:
            task.cancel()
            raise RuntimeError(f"{child.name} did not become ready (exit {child.process.poll()})")
        await asyncio.wait({task}, timeout=0.3)
    return task.result()


async def _run_once(command: list[str], env: dict[str, str], cwd: Path) -> None:
    """Run a `keycase` command to its end; it must succeed."""
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=cwd, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()


@asynccontextmanager
async def running_stack(
    data_dir: Path,
    workers: int = 2,
    policy: Path = POLICY,
    database_url: str | None = None,
    sweeps: bool = False,
) -> AsyncIterator[RunningStack]:
    """Dev server, migrations, `workers` worker processes and the API, on free ports.

    The store is SQLite in `data_dir` unless `database_url` names another. With `sweeps`,
    the detection Schedule is created as `keycase up` creates it."""
    sendgrid, twilio = FakeSendGrid(), FakeTwilio()
    grpc, api_port = f"127.0.0.1:{free_port()}", free_port()
    env = _environment(data_dir, grpc, api_port, sendgrid, twilio, policy, database_url)
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    children = Children(env, cwd=data_dir)
    python = [sys.executable, "-m", "cli.commands"]
    try:
        command = dev_server_command(grpc, free_port(), data_dir / "temporal.db", headless=True)
        server = children.start("temporal", command, logs / "temporal.log", signal.SIGTERM)
        temporal = await _ready(server, wait_until_serving(grpc, "default"), 60)
        await _run_once([*python, "migrate"], env, data_dir)
        started = [
            children.start(f"worker-{n}", [*python, "worker"], logs / f"worker-{n}.log")
            for n in (1, 2)[:workers]
        ]
        for child in started:
            await _ready(child, worker_polling(temporal, "keycase", child.process.pid), 60)
        if sweeps:
            await _run_once([*python, "detect", "schedule"], env, data_dir)
        api = children.start("api", [*python, "api"], logs / "api.log")
        api_url = f"http://127.0.0.1:{api_port}"
        await _ready(api, api_answering(api_url), 60)
        yield RunningStack(
            api_url, temporal, started, api, server, sendgrid, twilio, logs, children
        )
    finally:
        children.stop_all()
        sendgrid.close()
        twilio.close()
