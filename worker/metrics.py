"""The worker's Prometheus endpoints: the Temporal SDK's runtime metrics and keycase's own."""

import asyncio
import contextlib
import logging
from datetime import timedelta

from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError

from domain.ids import WORKFLOW_TYPE
from domain.search_attributes import CASE_STAGE
from domain.stages import OPEN_STAGES
from observability.metrics import OPEN_CASES

log = logging.getLogger("keycase.worker")


def sdk_runtime(address: str | None) -> Runtime | None:
    """A Temporal runtime serving the SDK's metrics on `address` (host:port); None: default."""
    if not address:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def serve_own_metrics(address: str | None) -> None:
    """Serve keycase's own metrics (observability.metrics) on `address` (host:port), if set."""
    if not address:
        return
    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")


async def count_open_cases(client: Client, every: timedelta, stop: asyncio.Event) -> None:
    """Keep `keycase_open_cases{stage}` current until `stop`: one visibility count a stage.

    Every worker reports the same totals (a gauge of the whole namespace): aggregate them
    with `max`, not `sum`. A failed count leaves the last figures and is logged.
    """
    while True:
        for stage in sorted(OPEN_STAGES):
            query = (
                f'WorkflowType = "{WORKFLOW_TYPE}" AND ExecutionStatus = "Running" '
                f'AND {CASE_STAGE.name} = "{stage.value}"'
            )
            try:
                counted = await client.count_workflows(query)
            except RPCError as error:
                log.warning("counting open cases failed: %s", error)
                break
            OPEN_CASES.labels(stage=stage.value).set(counted.count)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        if stop.is_set():
            return
