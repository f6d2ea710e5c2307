"""The `record_case_facts` activity: append a case's facts to the audit chain, once each."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store_access import StoreActivities
from domain.activity_io import ActivityName, RecordCaseFactsInput, RecordCaseFactsResult
from store.audit_chain import ForbiddenPayload


class AuditActivities(StoreActivities):
    """Audit log side effects; quick enough to run as local activities."""

    @activity.defn(name=ActivityName.RECORD_CASE_FACTS)
    async def record_case_facts(self, request: RecordCaseFactsInput) -> RecordCaseFactsResult:
        """Append the facts not yet recorded, in one transaction; repeats append nothing."""
        now = self._clock()
        try:
            appended = await self._append_facts(request.facts, now)
        except ForbiddenPayload as error:
            raise ApplicationError(
                str(error), type="ForbiddenPayload", non_retryable=True
            ) from error
        return RecordCaseFactsResult(appended=appended)
