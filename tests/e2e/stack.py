"""keycase as separate processes for end-to-end tests: dev server, workers, API."""

import asyncio
import os
import signal
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
from payloads.converter import converter_for
from payloads.keyring import PayloadKeys, generate_key_entry
from tests.fakes.sendgrid_fake import FakeSendGrid
from tests.fakes.twilio_fake import FakeTwilio
from tests.ports import free_ports

POLICY = Path(__file__).with_name("policy.toml")
TOKENS = {
    "admin": "e2e-admin-token-0123456789",
    "surveillance": "e2e-surveillance-token-0123456789",
    "officer": "e2e-officer-token-0123456789",
    "kyc": "e2e-kyc-token-0123456789",
    "gateway": "e2e-gateway-token-0123456789",
    "auditor": "e2e-auditor-token-0123456789",
    "support": "e2e-support-token-0123456789",
}
NAMES = {
    "admin": "ops",
    "surveillance": "feed",
    "officer": "kim",
    "kyc": "kyc-co",
    "support": "help-desk",
}
TWILIO_FROM = "+15005550006"
T = TypeVar("T")


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
    server_command: list[str] = field(default_factory=list)
    worker_command: list[str] = field(default_factory=list)
    ui_url: str | None = None  # the Temporal Web UI, when the stack was started with one

    def http(self, role: str | None) -> httpx.AsyncClient:
        """An API client holding `role`'s token (None: no token at all)."""
        headers = {"Authorization": f"Bearer {TOKENS[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.api_url, headers=headers, timeout=30)

    def kill_worker(self, index: int) -> Child:
        """SIGKILL worker `index` (no chance to finish anything) and start a replacement."""
        os.kill(self.workers[index].process.pid, signal.SIGKILL)
        self.workers[index].process.wait()
        number = len(list(self.logs.glob("worker-*.log"))) + 1
        name = f"worker-{number}"
        self.workers[index] = self.children.start(
            name, self.worker_command, self.logs / f"{name}.log"
        )
        return self.workers[index]

    async def restart_server(self) -> None:
        """Stop the dev server (SIGTERM) and start it again on the same ports and file."""
        self.server.process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(self.server.process.wait, 60)
        self.server = self.children.start(
            "temporal", self.server_command, self.logs / "temporal.log", signal.SIGTERM
        )


def _environment(
    data_dir: Path,
    grpc: str,
    api_port: int,
    sg: FakeSendGrid,
    tw: FakeTwilio,
    policy: Path,
    database_url: str | None,
    payload_keys: str,
    encryption: bool,
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
        "KEYCASE_PAYLOAD_KEYS": payload_keys,
        "KEYCASE_PAYLOAD_ENCRYPTION": str(encryption).lower(),
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
    extra_env: dict[str, str] | None = None,
    sendgrid_feed: bool = False,
    encryption: bool = True,
    ui: bool = False,
    sweeps: bool = False,
) -> AsyncIterator[RunningStack]:
    """Dev server, migrations, `workers` worker processes and the API, on free ports.

    The store is SQLite in `data_dir` unless `database_url` names another; `extra_env`
    adds settings (e.g. `KEYCASE_SENDGRID_WEBHOOK_PUBLIC_KEY`); `sendgrid_feed` turns on the
    fake SendGrid's activity feed (a paid add-on at SendGrid). With `sweeps`, the detection
    Schedule is created as `keycase up` creates it. Payloads are encrypted under a key made
    for this stack unless `encryption` is off (benchmarks). With `ui`, the dev server serves
    its Web UI, decoding through the API's codec server."""
    sendgrid, twilio = FakeSendGrid(activity_feed=sendgrid_feed), FakeTwilio()
    grpc_port, api_port, ui_port, http_port, metrics_port = free_ports(5)
    grpc = f"127.0.0.1:{grpc_port}"
    keys = generate_key_entry()
    env = _environment(
        data_dir, grpc, api_port, sendgrid, twilio, policy, database_url, keys, encryption
    )
    env["KEYCASE_TEMPORAL_UI_PORT"] = str(ui_port)  # the codec server's CORS origin
    env |= extra_env or {}
    converter = converter_for(PayloadKeys.parse(keys) if encryption else None)
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    children = Children(env, cwd=data_dir)
    python = [sys.executable, "-m", "cli.commands"]
    try:
        command = dev_server_command(
            grpc,
            ui_port,
            data_dir / "temporal.db",
            headless=not ui,
            http_port=http_port,
            metrics_port=metrics_port,
            codec_endpoint=f"http://127.0.0.1:{api_port}/codec" if ui else None,
        )
        server = children.start("temporal", command, logs / "temporal.log", signal.SIGTERM)
        temporal = await _ready(server, wait_until_serving(grpc, "default", converter), 60)
        await _run_once([*python, "migrate"], env, data_dir)
        started = [
            children.start(f"worker-{n}", [*python, "worker"], logs / f"worker-{n}.log")
            for n in range(1, workers + 1)
        ]
        for child in started:
            await _ready(child, worker_polling(temporal, "keycase", child.process.pid), 60)
        if sweeps:
            await _run_once([*python, "detect", "schedule"], env, data_dir)
        api = children.start("api", [*python, "api"], logs / "api.log")
        api_url = f"http://127.0.0.1:{api_port}"
        await _ready(api, api_answering(api_url), 60)
        ui_url = f"http://127.0.0.1:{ui_port}" if ui else None
        yield RunningStack(
            api_url,
            temporal,
            started,
            api,
            server,
            sendgrid,
            twilio,
            logs,
            children,
            server_command=command,
            worker_command=[*python, "worker"],
            ui_url=ui_url,
        )
    finally:
        children.stop_all()
        sendgrid.close()
        twilio.close()
