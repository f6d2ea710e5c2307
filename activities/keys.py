"""The `apply_key_measure` activity: change a key's status in the registry, audited, read back."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.store_access import StoreActivities
from domain.activity_io import ActivityName, ApplyKeyMeasureInput, KeyStateResult
from domain.audit_events import expiry_read_back, refused_by_the_log
from store.audit import ForbiddenPayload
from store.registry import UnknownKey, apply_measure, key_state


class KeyActivities(StoreActivities):
    """Key registry side effects; quick enough to run as local activities."""

    @activity.defn(name=ActivityName.APPLY_KEY_MEASURE)
    async def apply_key_measure(self, request: ApplyKeyMeasureInput) -> KeyStateResult:
        """Apply the measure with its facts in one transaction, then read the key back.

        After an expiry the read-back (status and the gateway's answer) is recorded too.
        """
        now = self._clock()
        # Facts the audit log would refuse must not stop the measure: left out, reported.
        taken, refused = refused_by_the_log(request.facts)
        request = request.model_copy(update={"facts": taken})
        try:
            changed = await self._work.write(lambda c: apply_measure(c, request, now))
            read_at = self._clock()
            state = await self._work.read(lambda c: key_state(c, request.key_id, changed, read_at))
            fact = expiry_read_back(request, state)
            if fact is not None:
                await self._append_facts([fact], now)
        except (UnknownKey, ForbiddenPayload) as error:
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        return state.model_copy(update={"refused": refused}) if refused else state
