"""The `record_case_facts` activity: append a case's facts to the audit chain, once each."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.effects import ActivityName, RecordCaseFactsInput, RecordCaseFactsResult
from store.audit import append_facts
from store.audit_chain import ForbiddenPayload
from store.uow import run_write


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditActivities:
    """Audit log side effects; quick enough to run as local activities."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    @activity.defn(name=ActivityName.RECORD_CASE_FACTS)
    async def record_case_facts(self, request: RecordCaseFactsInput) -> RecordCaseFactsResult:
        """Append the facts not yet recorded, in one transaction; repeats append nothing."""
        now = self._clock()
        try:
            appended = await run_write(
                self._sessions, lambda session: append_facts(session, request.facts, now)
            )
        except ForbiddenPayload as error:
            raise ApplicationError(
                str(error), type="ForbiddenPayload", non_retryable=True
            ) from error
        return RecordCaseFactsResult(appended=appended)
