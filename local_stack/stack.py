"""`keycase up`: Temporal dev server, store migrations, worker and API on this machine."""

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import httpx
from rich.console import Console

from activities.policy import read_detection_policy
from cli.demo import DEMO_POLICY, run_demo
from cli.http import ApiError, KeycaseApi, api_base_url
from cli.tokens import entries, load_or_create_tokens, tokens_path
from config.settings import Settings
from config.signing import signing_key
from local_stack.children import Children
from local_stack.devserver import dev_server_command, split_address, wait_until_serving
from local_stack.readiness import api_answering, worker_polling
from payloads.converter import data_converter
from store.migrate import upgrade
from worker.report_schedules import ensure_report_schedules
from worker.sweep_schedule import ensure_sweep_schedule

console = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")


def run_stack(settings: Settings, demo: bool = False) -> int:
    """Run the whole local stack until Ctrl-C (or SIGTERM); returns the exit code.

    With `demo`, the worker runs the fast demo policy and the demo scenario is raised
    once everything is up."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    tokens = load_or_create_tokens(settings)
    signing_key(settings)  # made once here, so the worker and the API read the same key
    env = {**os.environ, "KEYCASE_API_TOKENS": tokens, "KEYCASE_DATA_DIR": str(data_dir)}
    if demo:
        env["KEYCASE_POLICY_FILE"] = str(DEMO_POLICY)
    children = Children(env)
    try:
        return asyncio.run(_run(settings, data_dir, tokens, children, demo))
    finally:
        console.print("[bold]stopping[/] API, worker, Temporal …")
        children.stop_all()
        console.print("stopped.")


async def _run(
    settings: Settings, data_dir: Path, tokens: str, children: Children, demo: bool
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    host, port = split_address(settings.temporal_address)
    _ensure_free(host, port, "Temporal gRPC", "KEYCASE_TEMPORAL_ADDRESS")
    _ensure_free(host, settings.temporal_ui_port, "Temporal UI", "KEYCASE_TEMPORAL_UI_PORT")
    _ensure_free(host, settings.temporal_http_port, "Temporal HTTP", "KEYCASE_TEMPORAL_HTTP_PORT")
    _ensure_free(
        host, settings.temporal_metrics_port, "Temporal metrics", "KEYCASE_TEMPORAL_METRICS_PORT"
    )
    _ensure_free(settings.api_host, settings.api_port, "API", "KEYCASE_API_PORT")

    temporal_log = data_dir / "temporal.log"
    console.print(f"starting Temporal dev server (log: {temporal_log}) …")
    command = dev_server_command(
        settings.temporal_address,
        settings.temporal_ui_port,
        data_dir / "temporal.db",
        settings.temporal_namespace,
        http_port=settings.temporal_http_port,
        metrics_port=settings.temporal_metrics_port,
        codec_endpoint=f"{api_base_url(settings)}/codec",
    )
    # The dev server shuts down cleanly on SIGTERM and flushes its SQLite file.
    children.start("temporal", command, temporal_log, stop_signal=signal.SIGTERM)
    # Made here, before the children start: the worker and API read the same payload key.
    converter = data_converter(settings)
    serving = wait_until_serving(settings.temporal_address, settings.temporal_namespace, converter)
    client = await _until(children, stop, serving, f"Temporal (see {temporal_log})")

    console.print("applying store migrations …")
    await asyncio.to_thread(upgrade, settings.effective_database_url)

    python = [sys.executable, "-m", "cli.commands"]
    # The worker writes to this terminal: without provider credentials it prints notices.
    worker = children.start("worker", [*python, "worker"])
    polling = worker_polling(client, settings.task_queue, worker.process.pid)
    await _until(children, stop, polling, "worker")
    detection = read_detection_policy(DEMO_POLICY if demo else settings.policy_file)
    await ensure_sweep_schedule(client, settings.task_queue, detection.detection.every)
    await ensure_report_schedules(client, settings.task_queue, settings.anchor_every)
    children.start("api", [*python, "api"], data_dir / "api.log")
    await _until(children, stop, api_answering(api_base_url(settings)), "API")

    _print_ready(settings, data_dir, tokens, demo)
    if demo:
        await _run_demo(settings, tokens)
    while not stop.is_set():
        if (ended := children.exited()) is not None:
            console.print(f"[red]{ended.name} exited with {ended.process.returncode}[/]")
            return 1
        await asyncio.sleep(0.3)
    return 0


async def _until(
    children: Children, stop: asyncio.Event, ready: Awaitable[T], what: str, seconds: float = 90
) -> T:
    """Await `ready`, but give up when a child dies, time runs out or the user presses Ctrl-C."""
    task = asyncio.ensure_future(ready)
    deadline = asyncio.get_running_loop().time() + seconds
    while not task.done():
        failure: str | int | None = None
        if stop.is_set():
            failure = 130
        elif (ended := children.exited()) is not None:
            failure = f"{ended.name} exited with {ended.process.returncode} while starting"
        elif asyncio.get_running_loop().time() > deadline:
            failure = f"{what} not ready after {seconds:.0f}s"
        if failure is not None:
            task.cancel()
            raise SystemExit(failure)
        await asyncio.wait({task}, timeout=0.3)
    return task.result()


async def _run_demo(settings: Settings, tokens: str) -> None:
    """Raise the demo's alerts; a failure is reported and the stack keeps running."""
    try:
        with KeycaseApi(api_base_url(settings), tokens) as api:
            await asyncio.to_thread(run_demo, api, console)
    except (ApiError, TimeoutError, httpx.HTTPError) as error:
        console.print(f"[red]demo failed: {error}[/]")


def _ensure_free(host: str, port: int, what: str, variable: str) -> None:
    """Refuse to start beside something already on our ports: readiness checks would
    otherwise talk to that other process and report a stack that is not ours."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # Like the servers themselves: lingering TIME_WAIT connections do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise SystemExit(
                f"{what} port {host}:{port} is in use (another keycase or Temporal running?); "
                f"stop it or choose another port with {variable}"
            ) from None


def _print_ready(settings: Settings, data_dir: Path, tokens: str, demo: bool) -> None:
    host, _ = split_address(settings.temporal_address)
    ui = f"http://{host}:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}"
    api = api_base_url(settings)
    console.rule("[bold green]keycase is running")
    console.print(f"  Temporal UI   {ui}/workflows")
    console.print(f"  awaiting KYC  {ui}/workflows?query=CaseStage%3D%22AWAITING_KYC%22")
    console.print(f"  sweeps        {ui}/schedules   (detectors over the access log)")
    console.print(f"  API           {api}   (OpenAPI: {api}/docs)")
    console.print(f"  Temporal gRPC {settings.temporal_address}")
    console.print(f"  store         {settings.effective_database_url}")
    console.print(f"  data, logs    {data_dir}")
    saved = "" if settings.api_tokens else f" (saved in {tokens_path(settings)})"
    console.print(f"  API tokens{saved}:")
    for role, name, token in entries(tokens):
        console.print(f"    {role.value:<13} {name:<12} {token}")
    if not demo:
        console.print("  Try [bold]keycase demo[/] in another terminal.")
    console.print("  Ctrl-C stops everything.")
