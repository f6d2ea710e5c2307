"""`keycase worker`: one worker process on the task queue, with real adapters from settings.

Start as many as you like: every worker polls the same task queue and Temporal hands
each workflow or activity task to one of them.
"""

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.anchors import AnchorPublisher
from activities.appeals import AppealActivities
from activities.audit import AuditActivities
from activities.detection import AlertRaiser, DetectionActivities
from activities.keys import KeyActivities
from activities.notifications import NoticeActivities, NoticeRenderer, build_channels
from activities.outcome_push import OutcomePushActivities
from activities.policy import PolicyActivities, read_detection_policy, read_policy_file
from activities.reports import MonthlyReports
from activities.rings import RingActivities
from api.ring_links import RingLinker
from config.policy_file import read_appeals_policy, read_ring_policy
from config.settings import Settings
from config.signing import signing_key
from domain.outcomes import PUSH_WORKFLOW_ID, OutcomePushInput
from domain.policy import PolicyError
from payloads.converter import data_converter
from store.engine import open_store
from worker.metrics import count_open_cases, sdk_runtime, serve_own_metrics
from workflows.anchor_chain import AnchorChainWorkflow
from workflows.appeal import AppealWorkflow
from workflows.detection_sweep import DetectionSweepWorkflow
from workflows.key_case import KeyCaseWorkflow
from workflows.monthly_report import MonthlyReportWorkflow
from workflows.outcome_push import OutcomePushWorkflow
from workflows.ring import RingWorkflow

log = logging.getLogger("keycase.worker")

# Long enough for a notice send in flight to finish; shorter than compose's stop grace.
GRACEFUL_SHUTDOWN = timedelta(seconds=20)
OPEN_CASES_REFRESH = timedelta(seconds=15)  # keycase_open_cases: one count a stage each time


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the task queue until `stop` is set, then finish running activities and exit."""
    # Fail fast: a worker with a bad policy must not start taking cases.
    policy = read_policy_file(settings.policy_file)
    detection = read_detection_policy(settings.policy_file)
    read_appeals_policy(settings.policy_file)  # the API applies it; a bad table stops both
    ring_policy = read_ring_policy(settings.policy_file)
    store = open_store(settings.effective_database_url)
    channels = build_channels(settings)
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=sdk_runtime(settings.worker_sdk_metrics_address),
    )
    serve_own_metrics(settings.worker_metrics_address)
    # Every activity's store work shares the one store, so its writes share transactions.
    notices = NoticeActivities(
        store,
        channels.email,
        channels.sms,
        NoticeRenderer(),
        settle_window=settings.notice_settle_window,
        senders=policy.sender_for,
    )
    # Detector hits enter through the same intake as POST /v1/alerts.
    rings = RingLinker(store, client, settings.task_queue, ring_policy)
    raiser = AlertRaiser(client, settings.task_queue, store, rings)
    ring_effects = RingActivities(client, raiser.raise_alert)
    sweeps = DetectionActivities(store, detection, raiser)
    appeals = AppealActivities(store)
    anchor_key = signing_key(settings)
    anchors = AnchorPublisher(store, anchor_key, settings.data_dir)
    monthly = MonthlyReports(store, anchor_key, settings.data_dir)
    activities: list[Callable[..., Any]] = [
        sweeps.count_access_log,
        sweeps.run_detector,
        sweeps.finish_sweep,
        PolicyActivities(policy).load_policy,
        KeyActivities(store).apply_key_measure,
        AuditActivities(store).record_case_facts,
        notices.send_notice,
        appeals.record_appeal_filed,
        appeals.record_appeal_decision,
        ring_effects.fan_out_ring_action,
        ring_effects.tell_ring_members,
        anchors.publish_anchor,
        monthly.write_monthly_report,
    ]
    webhook = settings.outcome_webhook
    if webhook is not None:
        activities.append(OutcomePushActivities(store, *webhook).push_outcomes)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[
            KeyCaseWorkflow,
            DetectionSweepWorkflow,
            RingWorkflow,
            AppealWorkflow,
            OutcomePushWorkflow,
            AnchorChainWorkflow,
            MonthlyReportWorkflow,
        ],
        activities=activities,
        max_cached_workflows=settings.max_cached_workflows,
        workflow_runner=(
            SandboxedWorkflowRunner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()
        ),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    log.info(
        "worker on task queue %r at %s, policy %s, e-mail by %s, SMS by %s",
        settings.task_queue,
        settings.temporal_address,
        policy.version,
        type(channels.email).__name__,
        type(channels.sms).__name__,
    )
    try:
        async with worker, asyncio.TaskGroup() as background:
            if settings.worker_metrics_address:
                background.create_task(count_open_cases(client, OPEN_CASES_REFRESH, stop))
            if webhook is not None:
                await start_outcome_push(client, settings)
            await stop.wait()
            log.info("stopping: finishing running activities (up to %s)", GRACEFUL_SHUTDOWN)
    finally:
        await store.close()
    log.info("worker stopped")


async def start_outcome_push(client: Client, settings: Settings) -> None:
    """Start the one push loop unless it runs already (every configured worker asks)."""
    await client.start_workflow(
        OutcomePushWorkflow.run,
        OutcomePushInput(
            drain_seconds=settings.outcome_push_drain.total_seconds(),
            retry_initial_seconds=settings.outcome_push_retry_initial.total_seconds(),
            retry_max_seconds=settings.outcome_push_retry_max.total_seconds(),
        ),
        id=PUSH_WORKFLOW_ID,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        static_summary="Outcomes to surveillance's webhook",
    )
    log.info("outcomes are pushed to %s", settings.outcome_webhook_url)


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await run_worker(settings, stop)


def main() -> None:
    """Entry point of `keycase worker` and `python -m worker.main`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Twilio's SDK logs every request and response at INFO: noise, and the owner's number.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    try:
        asyncio.run(_serve(Settings()))
    except PolicyError as error:
        raise SystemExit(f"keycase worker: {error}") from None


if __name__ == "__main__":
    main()
