"""Real Temporal retries (time-skipping server) around send_notice: every notice goes out once."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHistoryEventFilterType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import NoticeActivities, NoticeRenderer
from activities.notifications.sendgrid_email import SendGridEmail
from activities.notifications.twilio_sms import TwilioSms
from domain.notices import DeliveryStatus
from store.port import Store
from tests.fakes import sendgrid_fake as sg
from tests.fakes import twilio_fake as tw
from tests.notifications.notice_workflow import NoticeRun, SendOneNotice
from tests.notifications.support import add_owner, warning


def _worker(env: WorkflowEnvironment, activities: NoticeActivities, task_queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=task_queue,
        workflows=[SendOneNotice],
        activities=[activities.send_notice],
        # No sticky queue: the time-skipping server never moves a workflow task off the sticky
        # queue of a worker that is gone, and these tests stop workers on purpose.
        max_cached_workflows=0,
    )


def _activities(
    store: Store,
    email: SendGridEmail,
    sms: TwilioSms,
) -> NoticeActivities:
    # A short settle window in wall-clock time: the activity compares provider timestamps
    # with its own clock, so it must not run on the test server's skipped time.
    return NoticeActivities(store, email, sms, NoticeRenderer(), None, timedelta(seconds=2))


async def _attempts(env: WorkflowEnvironment, workflow_id: str) -> int:
    history = await env.client.get_workflow_handle(workflow_id).fetch_history(
        event_filter_type=WorkflowHistoryEventFilterType.ALL_EVENT
    )
    started = [e for e in history.events if e.HasField("activity_task_started_event_attributes")]
    return started[-1].activity_task_started_event_attributes.attempt


async def test_server_errors_rate_limits_and_dropped_answers_still_send_each_channel_once(
    time_skipping_env: WorkflowEnvironment,
    sqlite_store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
) -> None:
    await add_owner(sqlite_store)
    sendgrid.script(sg.server_error(500), sg.rate_limited(reset_in=20))
    twilio.script(tw.server_error(503), tw.accepted_then_dropped(), tw.rate_limited(3))
    queue, workflow_id = f"notices-{uuid.uuid4()}", f"notice-{uuid.uuid4()}"
    async with _worker(time_skipping_env, _activities(sqlite_store, email_port, sms_port), queue):
        result = await time_skipping_env.client.execute_workflow(
            SendOneNotice.run, NoticeRun(notice=warning()), id=workflow_id, task_queue=queue
        )
    assert [o.status for o in result.outcomes] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(sendgrid.accepted) == 1 and len(twilio.accepted) == 1
    assert await _attempts(time_skipping_env, workflow_id) >= 4


@pytest.mark.parametrize("channel", ["email", "sms"])
async def test_worker_lost_after_the_provider_accepted_sends_nothing_again(
    time_skipping_env: WorkflowEnvironment,
    sqlite_store: Store,
    sendgrid: sg.FakeSendGrid,
    twilio: tw.FakeTwilio,
    email_port: SendGridEmail,
    sms_port: TwilioSms,
    channel: str,
) -> None:
    await add_owner(sqlite_store)
    sendgrid.activity_feed = True
    fake = sendgrid if channel == "email" else twilio
    # The provider takes the message but answers too late: the worker dies waiting for it.
    fake.script(sg.accepted_then_slow(3) if channel == "email" else tw.accepted_then_slow(3))
    queue, workflow_id = f"notices-{uuid.uuid4()}", f"notice-{uuid.uuid4()}"
    client = time_skipping_env.client
    async with _worker(time_skipping_env, _activities(sqlite_store, email_port, sms_port), queue):
        handle = await client.start_workflow(
            SendOneNotice.run,
            NoticeRun(notice=warning(), start_to_close_seconds=2),
            id=workflow_id,
            task_queue=queue,
        )
        while not fake.accepted:  # noqa: ASYNC110 - the fake's own thread fills the list
            await asyncio.sleep(0.05)
    # A new worker process (fresh activities object, same database) picks up the retry.
    async with _worker(time_skipping_env, _activities(sqlite_store, email_port, sms_port), queue):
        result = await handle.result()
    assert [o.status for o in result.outcomes] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(sendgrid.accepted) == 1 and len(twilio.accepted) == 1
    assert await _attempts(time_skipping_env, workflow_id) >= 2
