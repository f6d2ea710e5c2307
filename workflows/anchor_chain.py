"""AnchorChainWorkflow: sign the audit chain's head once; the anchor Schedule starts the next.

A head that is already anchored is left as it is, so a run that retries, or a Schedule
that fires while nothing was appended, writes nothing new.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.reports.schedules import ANCHOR_WORKFLOW, ActivityName, AnchorInput, AnchorResult

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5)


@workflow.defn(name=ANCHOR_WORKFLOW)
class AnchorChainWorkflow:
    """Publishes one anchor."""

    @workflow.run
    async def run(self, request: AnchorInput) -> AnchorResult:
        """The anchor now in force (or an empty result for an empty chain)."""
        result: AnchorResult = await workflow.execute_activity(
            ActivityName.PUBLISH_ANCHOR,
            request,
            result_type=AnchorResult,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
        )
        return result
