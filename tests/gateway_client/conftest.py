"""keycase's API served over real HTTP on a socket that stays bound across restarts."""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from config.settings import Settings
from tests.api.conftest import POLICY, TOKEN_SPEC
from tests.store.databases import database_url, store

__all__ = ["database_url", "store"]


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    """A bound, listening socket on a free port: requests queue there while keycase is down."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The API's settings on the test database; Temporal is never reached by these tests."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path,
        database_url=database_url,
        temporal_address="127.0.0.1:9",  # connected lazily, never used here
        api_tokens=SecretStr(TOKEN_SPEC),
        policy_file=POLICY,
    )


@asynccontextmanager
async def serving(settings: Settings, sock: socket.socket) -> AsyncIterator[None]:
    """keycase's API (a fresh process's app and lifespan) on `sock` until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve(sockets=[sock.dup()]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def base_url(sock: socket.socket) -> str:
    """The URL of the API on `sock`."""
    host, port = sock.getsockname()
    return f"http://{host}:{port}"
