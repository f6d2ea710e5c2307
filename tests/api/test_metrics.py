"""The API's Prometheus metrics and the worker's Temporal SDK runtime metrics are served."""

import asyncio
import socket
from datetime import timedelta

import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.auth import Role
from domain.stages import OPEN_STAGES, CaseStage
from observability.metrics import OPEN_CASES
from tests.api.conftest import auth
from tests.api.support import alert_for, raise_alert, register_key
from worker.metrics import count_open_cases, sdk_runtime


def _sample(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def test_api_metrics_count_alerts_and_gateway_decisions(http: httpx.AsyncClient) -> None:
    before = (await http.get("/metrics")).text
    key = await register_key(http)
    await raise_alert(http, alert_for(key))
    body = {"ip": "198.51.100.1", "permission": "read"}
    await http.post(f"/v1/keys/{key.key_id}/authorize", json=body, headers=auth(Role.GATEWAY))
    after = (await http.get("/metrics")).text

    opened = ("keycase_alerts_total", {"outcome": "opened"})
    denied = (
        "keycase_gateway_decisions_total",
        {"source": "authorize", "reason": "ip_not_whitelisted"},
    )
    for name, labels in (opened, denied):
        assert _sample(after, name, **labels) == _sample(before, name, **labels) + 1
    flagged = "keycase_accept_to_flagged_seconds_count"
    assert _sample(after, flagged) == _sample(before, flagged) + 1
    assert _sample(after, "keycase_gateway_decision_seconds_count") >= 1


async def test_worker_sdk_runtime_serves_temporal_metrics(dev_env: WorkflowEnvironment) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    runtime = sdk_runtime(address)
    assert runtime is not None and sdk_runtime(None) is None
    client = await Client.connect(dev_env.client.service_client.config.target_host, runtime=runtime)
    await client.count_workflows()  # one call, so the runtime has a request to count
    async with httpx.AsyncClient() as http:
        for _ in range(50):
            text = (await http.get(f"http://{address}/metrics")).text
            if "temporal_request" in text:
                break
            await asyncio.sleep(0.1)
    assert "temporal_request" in text


async def test_worker_counts_open_cases_by_stage(
    http: httpx.AsyncClient, dev_env: WorkflowEnvironment, worker: None
) -> None:
    key = await register_key(http)
    await raise_alert(http, alert_for(key))  # a new case: MONITORING, then on up the ladder
    stop = asyncio.Event()
    stop.set()  # one round of counts, then return
    for _ in range(100):  # visibility catches up with the case's search attributes
        await count_open_cases(dev_env.client, timedelta(0), stop)
        text = generate_latest(OPEN_CASES).decode()
        if _sample(text, "keycase_open_cases", stage=CaseStage.MONITORING.value) >= 1:
            break
        await asyncio.sleep(0.1)
    assert _sample(text, "keycase_open_cases", stage=CaseStage.MONITORING.value) >= 1
    counted = {
        sample.labels["stage"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert counted >= {stage.value for stage in OPEN_STAGES}
