"""The `record_case_facts` activity: append a case's facts to the audit chain, once each."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store_access import StoreActivities
from domain.activity_io import ActivityName, RecordCaseFactsInput, RecordCaseFactsResult
from domain.audit_events import refused_by_the_log
from store.audit import ForbiddenPayload


class AuditActivities(StoreActivities):
    """Audit log side effects; quick enough to run as local activities."""

    @activity.defn(name=ActivityName.RECORD_CASE_FACTS)
    async def record_case_facts(self, request: RecordCaseFactsInput) -> RecordCaseFactsResult:
        """Append the facts not yet recorded, in one transaction; repeats append nothing.

        Facts the audit log would refuse are left out and reported, so the rest are kept.
        """
        now = self._clock()
        taken, refused = refused_by_the_log(request.facts)
        try:
            appended = await self._append_facts(taken, now)
        except ForbiddenPayload as error:
            raise ApplicationError(
                str(error), type="ForbiddenPayload", non_retryable=True
            ) from error
        return RecordCaseFactsResult(appended=appended, refused=refused)
