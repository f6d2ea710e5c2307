"""A tiny workflow calling send_notice with a retry policy, so tests see real Temporal retries."""

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import ActivityName, SendNoticeInput, SendNoticeResult


class NoticeRun(BaseModel):
    notice: SendNoticeInput
    start_to_close_seconds: float = 5.0


@workflow.defn
class SendOneNotice:
    """Sends one notice; retries are the server's, backing off from one second to five minutes."""

    @workflow.run
    async def run(self, run: NoticeRun) -> SendNoticeResult:
        result: SendNoticeResult = await workflow.execute_activity(
            ActivityName.SEND_NOTICE,
            run.notice,
            result_type=SendNoticeResult,
            start_to_close_timeout=timedelta(seconds=run.start_to_close_seconds),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
            ),
        )
        return result
