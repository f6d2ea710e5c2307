"""OutcomePushWorkflow: the one loop that drains the outcomes outbox to surveillance's webhook.

The worker starts it (id `keycase-outcome-push`, an existing run is kept) when a webhook is
configured; no case workflow starts or signals it. Each turn runs one `push_outcomes`
activity that posts the undelivered outcomes in order for a while and marks each delivered
as the receiver takes it. A failed post fails the activity, which Temporal retries with
backoff (forever: an outcome is never dropped); the store's delivered mark is what makes a
retry, another worker or a restart pick up exactly where the last one stopped.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.outcomes import (
        PUSH_OUTCOMES,
        PUSH_WORKFLOW,
        OutcomePushInput,
        PushOutcomesInput,
        PushOutcomesResult,
    )

DRAINS_PER_RUN = 100  # about 600 history events, then a fresh run
HEARTBEAT_TIMEOUT = timedelta(seconds=30)  # a lost worker's drain moves on within this


@workflow.defn(name=PUSH_WORKFLOW)
class OutcomePushWorkflow:
    """Pushes outcomes for as long as the namespace lives, continuing as new now and then."""

    @workflow.run
    async def run(self, push: OutcomePushInput) -> None:
        """Drain, again and again; each drain is one activity (retried with backoff)."""
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=push.retry_initial_seconds),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=push.retry_max_seconds),
        )
        for _ in range(DRAINS_PER_RUN):
            await workflow.execute_activity(
                PUSH_OUTCOMES,
                PushOutcomesInput(drain_seconds=push.drain_seconds),
                result_type=PushOutcomesResult,
                start_to_close_timeout=timedelta(seconds=push.drain_seconds) + timedelta(minutes=2),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=retry,
                summary="push outcomes to surveillance",
            )
        workflow.continue_as_new(push)
