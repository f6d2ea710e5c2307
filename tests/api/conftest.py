"""The real app over HTTP: a Temporal dev server, a migrated SQLite file, the app's lifespan."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.auth import Role
from config.settings import Settings
from domain import search_attributes
from local_stack.devserver import temporal_binary
from store.migrate import upgrade
from tests.ports import free_ports
from tests.temporal import TEST_CONVERTER, TEST_PAYLOAD_KEYS
from worker.main import run_worker

POLICY = Path(__file__).with_name("policy.toml")

# One token per role; the names are the actors the audit log must show.
TOKENS = {
    Role.ADMIN: ("root", "tok-admin-0123456789"),
    Role.SURVEILLANCE: ("radar", "tok-surveillance-0123456789"),
    Role.OFFICER: ("kim", "tok-officer-0123456789"),
    Role.KYC: ("kyc-provider", "tok-kyc-0123456789"),
    Role.GATEWAY: ("upbit-gw", "tok-gateway-0123456789"),
    Role.AUDITOR: ("lee", "tok-auditor-0123456789"),
    Role.SUPPORT: ("help-desk", "tok-support-0123456789"),
}
# A second officer, for four eyes: approves or rejects what kim asked for.
SECOND_OFFICER = ("park", "tok-officer-park-0123456789")
# One more per role, limited to upbit: the exchange-scope matrix calls with these.
SCOPED = {role: (f"{name}-upbit", f"{token}-upbit") for role, (name, token) in TOKENS.items()}
TOKEN_SPEC = ",".join(
    [f"{role.value}:{name}:{token}" for role, (name, token) in TOKENS.items()]
    + [f"{role.value}:{name}:{token}:upbit" for role, (name, token) in SCOPED.items()]
    + [f"{Role.OFFICER.value}:{SECOND_OFFICER[0]}:{SECOND_OFFICER[1]}"]
)


def auth(role: Role) -> dict[str, str]:
    """The Authorization header of the test token with `role`."""
    return {"Authorization": f"Bearer {TOKENS[role][1]}"}


def second_officer() -> dict[str, str]:
    """The Authorization header of the second officer's token (park)."""
    return {"Authorization": f"Bearer {SECOND_OFFICER[1]}"}


def upbit_only(role: Role) -> dict[str, str]:
    """The Authorization header of the test token with `role` scoped to upbit."""
    return {"Authorization": f"Bearer {SCOPED[role][1]}"}


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The Temporal CLI dev server (real visibility, so list filters work) on a free port."""
    grpc, http_port, metrics_port = free_ports(3)
    env = await WorkflowEnvironment.start_local(
        port=grpc,
        data_converter=TEST_CONVERTER,
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(search_attributes.ALL),
        # Pinned, like every port of the tests' dev servers (see tests.ports).
        dev_server_extra_args=["--http-port", str(http_port), "--metrics-port", str(metrics_port)],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def api_settings(
    tmp_path_factory: pytest.TempPathFactory, dev_env: WorkflowEnvironment
) -> Settings:
    """Settings the way an operator would give them, pointing at the test servers."""
    data_dir: Path = tmp_path_factory.mktemp("keycase-api")
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'keycase.db'}",
        temporal_address=dev_env.client.service_client.config.target_host,
        api_tokens=SecretStr(TOKEN_SPEC),
        payload_keys=SecretStr(TEST_PAYLOAD_KEYS),
        policy_file=POLICY,
        task_queue=f"keycase-api-tests-{uuid.uuid4().hex[:8]}",
    )


@pytest_asyncio.fixture(scope="session")
async def migrated(api_settings: Settings) -> None:
    """The store's schema, through the same migrations an operator runs."""
    assert api_settings.database_url is not None
    await asyncio.to_thread(upgrade, api_settings.database_url)


@pytest_asyncio.fixture(scope="session")
async def worker(api_settings: Settings, migrated: None) -> AsyncIterator[None]:
    """The real worker (workflow, activities, console notices) on the tests' task queue."""
    stop = asyncio.Event()
    running = asyncio.create_task(run_worker(api_settings, stop))
    await asyncio.sleep(0)
    try:
        yield
    finally:
        stop.set()
        await running


@pytest_asyncio.fixture(scope="session")
async def app(api_settings: Settings, migrated: None) -> AsyncIterator[FastAPI]:
    """The application with its lifespan running, on the migrated database."""
    application = create_app(api_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://keycase.test") as client:
        yield client
