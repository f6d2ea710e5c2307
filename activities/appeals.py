"""The AppealWorkflow's store writes: the filing and the decision, each with its audit fact."""

from temporalio import activity

from activities.store_access import StoreActivities
from domain.activity_io import ActivityName
from domain.appeals import AppealInput, AppealState
from store.appeals import file_appeal, record_decision


class AppealActivities(StoreActivities):
    """Appeal records in the store; each write is one transaction and safe to repeat."""

    @activity.defn(name=ActivityName.RECORD_APPEAL_FILED)
    async def record_appeal_filed(self, filing: AppealInput) -> bool:
        """Record the appeal under review; False when a retry finds it recorded."""
        now = self._clock()
        return await self._work.write(lambda c: file_appeal(c, filing, now))

    @activity.defn(name=ActivityName.RECORD_APPEAL_DECISION)
    async def record_appeal_decision(self, appeal: AppealState) -> bool:
        """Record the officer's decision; False when a retry finds it recorded."""
        now = self._clock()
        return await self._work.write(lambda c: record_decision(c, appeal, now))
