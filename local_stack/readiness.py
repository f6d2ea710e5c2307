"""Readiness of the stack's processes, checked from outside as a client would."""

import asyncio

import httpx
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client


async def poller_identities(client: Client, task_queue: str) -> list[str]:
    """Identities of the workers that recently polled `task_queue` for workflow tasks."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    response = await client.workflow_service.describe_task_queue(request)
    return [poller.identity for poller in response.pollers]


async def worker_polling(client: Client, task_queue: str, pid: int) -> None:
    """Ready when this worker process polls the task queue (identity is `pid@host`, and
    pollers of an earlier run stay listed for a while, so the pid matters)."""
    while True:
        identities = await poller_identities(client, task_queue)
        if any(identity.startswith(f"{pid}@") for identity in identities):
            return
        await asyncio.sleep(0.3)


async def api_answering(base_url: str) -> None:
    """Ready when the API serves its OpenAPI document."""
    async with httpx.AsyncClient(base_url=base_url, timeout=2.0) as http:
        while True:
            try:
                if (await http.get("/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.3)
