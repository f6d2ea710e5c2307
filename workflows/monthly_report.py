"""MonthlyReportWorkflow: write one month's report into the data folder (its Schedule fires
at 09:00 KST on the 1st, for the month before). Re-running a month replaces its files."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.reports.kst import previous_month
    from domain.reports.schedules import (
        MONTHLY_WORKFLOW,
        ActivityName,
        MonthlyActivityInput,
        MonthlyInput,
        MonthlyResult,
    )

RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=5)


@workflow.defn(name=MONTHLY_WORKFLOW)
class MonthlyReportWorkflow:
    """One month's report, every language and format."""

    @workflow.run
    async def run(self, request: MonthlyInput) -> MonthlyResult:
        """The files written, under the data folder's reports/."""
        month = request.month or previous_month(workflow.now())
        result: MonthlyResult = await workflow.execute_activity(
            ActivityName.WRITE_MONTHLY_REPORT,
            MonthlyActivityInput(month=month),
            result_type=MonthlyResult,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RETRY,
        )
        return result
