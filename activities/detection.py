"""The sweep's activities: count new access-log rows, run one detector and raise its alerts,
finish the sweep and prune.

Alerts go through the same intake as `POST /v1/alerts` (`api.intake.take_alert`): the
alert-id claim in the store, then signal-with-start into the key's case. A detector re-run
raises the same alert ids, which intake answers as duplicates, so a sweep retried halfway
raises each hit once.
"""

from collections.abc import Callable
from datetime import datetime
from functools import partial

from temporalio import activity
from temporalio.client import Client

from activities.detection_runs import chunks, detect, windows_of
from activities.store_access import utc_now
from api.errors import ApiError
from api.intake import take_alert
from api.ring_links import RingLinker
from api.schemas import AlertAccepted, AlertStatus
from domain.alerts import Alert
from domain.detection.hits import Hit, alert_for
from domain.detection.policy import DetectionPolicy
from domain.detection.sweep import (
    MAX_LISTED_ALERTS,
    ActivityName,
    CountInput,
    CountResult,
    DetectInput,
    DetectResult,
    FinishInput,
    FinishResult,
)
from store.access import owners_of
from store.detection import Span, count_new_rows, finish_span, pending_span, prune_access_log
from store.port import Store


class AlertRaiser:
    """Hands alerts to intake as `POST /v1/alerts` does; None when intake refuses one."""

    def __init__(
        self, client: Client, task_queue: str, store: Store, rings: RingLinker | None = None
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._store = store
        self._rings = rings

    async def raise_alert(self, alert: Alert) -> AlertAccepted:
        """Intake as POST /v1/alerts; the alert's related keys then link rings."""
        accepted = await take_alert(alert, self._task_queue, self._store, self._client)
        if self._rings is not None:
            await self._rings.link(alert, accepted.case_id)
        return accepted

    async def raise_hit(self, hit: Hit, account_id: str, exchange: str) -> AlertStatus | None:
        """Raise the hit as an alert; None when intake refuses it (e.g. the key expired)."""
        try:
            accepted = await self.raise_alert(alert_for(hit, account_id, exchange))
        except ApiError as error:
            if error.status_code >= 500:
                raise  # intake busy: the activity retries
            activity.logger.info("intake refused %s: %s", hit.alert_id, error.code)
            return None
        return accepted.status


class DetectionActivities:
    """The sweep's side effects; long store work on `Store.bulk` and `Store.scan`."""

    def __init__(
        self,
        store: Store,
        policy: DetectionPolicy,
        raiser: AlertRaiser,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        # Counting and pruning hold the write lock for one bounded transaction a round: on
        # `bulk` they never share (and slow) the cases' commits nor hold SQLite's event loop.
        self._store = store
        self._policy = policy
        self._raiser = raiser
        self._clock = clock

    @activity.defn(name=ActivityName.COUNT_ACCESS_LOG)
    async def count_access_log(self, request: CountInput) -> CountResult:
        """Count settled rows past the watermark into the tallies; say which span waits."""
        sweep, now = self._policy.detection, self._clock()
        counted = await self._store.bulk(
            lambda c: count_new_rows(
                c, max_rows=sweep.max_rows_per_ingest, settled_before=now - sweep.settle, now=now
            )
        )
        span = await self._store.read(pending_span)
        return CountResult(
            rows=counted.rows,
            watermark_id=counted.watermark_id,
            caught_up=counted.caught_up,
            span_first=span.first if span else None,
            span_last=span.last if span else None,
        )

    @activity.defn(name=ActivityName.RUN_DETECTOR)
    async def run_detector(self, request: DetectInput) -> DetectResult:
        """Run one detector over the span's windows and raise each hit through intake."""
        name = request.detector
        windows = windows_of(self._policy, name, request.span_first, request.span_last)
        hits: list[Hit] = []
        for n, chunk in enumerate(chunks(windows)):
            activity.heartbeat(f"chunk {n}")
            hits += await self._store.scan(
                partial(detect, policy=self._policy, name=name, windows=chunk)
            )
        owners = await self._store.read(lambda c: owners_of(c, {h.key_id for h in hits}))
        counts = {status: 0 for status in AlertStatus}
        refused = 0
        for n, hit in enumerate(hits):
            activity.heartbeat(f"alert {n}")
            owner = owners.get(hit.key_id)
            status = None if owner is None else await self._raiser.raise_hit(hit, *owner)
            if status is None:
                refused += 1
            else:
                counts[status] += 1
        return DetectResult(
            detector=name,
            hits=len(hits),
            opened=counts[AlertStatus.OPENED],
            attached=counts[AlertStatus.ATTACHED],
            duplicates=counts[AlertStatus.DUPLICATE],
            refused=refused,
            alert_ids=[hit.alert_id for hit in hits[:MAX_LISTED_ALERTS]],
        )

    @activity.defn(name=ActivityName.FINISH_SWEEP)
    async def finish_sweep(self, request: FinishInput) -> FinishResult:
        """Mark the span looked at, then prune rows past retention in bounded batches."""
        sweep, now = self._policy.detection, self._clock()
        finished = False
        if request.span_first is not None and request.span_last is not None:
            span = Span(request.span_first, request.span_last)
            finished = await self._store.write(lambda c: finish_span(c, span, now))
        before = now - sweep.retention
        pruned = 0
        for _ in range(sweep.prune_batches_per_sweep):
            deleted = await self._store.bulk(
                lambda c: prune_access_log(c, before=before, batch=sweep.prune_batch)
            )
            pruned += deleted
            if deleted < sweep.prune_batch:
                break
        return FinishResult(finished=finished, pruned=pruned)
