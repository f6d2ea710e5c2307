"""Taking in one surveillance alert: claim its id, check its key, signal-with-start, settle.

1. A plain read, with no write lock: a settled alert id is a duplicate at once, even if
   its case has closed since (a repeat must never open a new case), and an alert its key
   refuses is answered without writing anything.
2. The id is claimed (a row without a case). Of concurrent deliveries of the same id
   exactly one claims it; the others wait for it to settle and answer `duplicate` with
   its case. A claimant that fails releases the claim; one that died is taken over
   after STALE_CLAIM.
3. Signal-with-start (USE_EXISTING) puts the alert into the key's running case or
   starts one; the response's `started` flag says which: `opened` or `attached`.
4. The claim is settled with the case id.
Store work happens in short transactions; none is held open across the Temporal call.
Claims and settles of concurrent requests share transactions (`store.port.Store.write`),
and a repeat arriving while the first delivery is in flight in the same process waits for
it in memory (`AlertsInFlight`). Which alerts a key refuses is `domain.intake.refusal`.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection
from temporalio.api.workflowservice.v1 import SignalWithStartWorkflowExecutionResponse
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from api.errors import ApiError
from api.schemas import AlertAccepted, AlertStatus
from api.visibility import held_case
from domain.alerts import Alert
from domain.case import KeyCaseInput, case_summary
from domain.first_measure import opening_measure
from domain.ids import WORKFLOW_TYPE, case_id_for, case_workflow_id
from domain.intake import KeyOwner, refusal
from domain.messages import SignalName
from store.intake import AlertIntake, IntakeRecord
from store.port import Store
from store.registry import apply_measure

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(seconds=60)  # longer than any signal-with-start with its retries
CLAIM_WAIT_SECONDS = 10.0  # how long a repeat waits for the first delivery to settle
_POLL_SECONDS = 0.05
# Beyond this many alerts being handed over at once, this process is past the case engine's
# capacity: it answers 503 with Retry-After at once rather than queue into a timeout.
MAX_IN_FLIGHT = 256
HANDOVER_TIMEOUT = timedelta(seconds=5)  # a signal-with-start slower than this answers 503
RETRY_AFTER = {"Retry-After": "1"}


class AlertsInFlight:
    """Alert ids this process is handing over right now, so a repeat waits here, not in the store.

    Senders redeliver on timeouts, so a repeat often arrives while the first delivery is
    still in signal-with-start. In one process it simply awaits that delivery's answer;
    a repeat sent to another API process still meets the claim in the store.
    """

    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        self._answers: dict[str, asyncio.Future[AlertAccepted | None]] = {}
        self._limit = limit

    async def take(
        self, alert: Alert, task_queue: str, store: Store, client: Client
    ) -> AlertAccepted:
        """Take the alert in, or answer `duplicate` once an earlier delivery here has settled."""
        earlier = self._answers.get(alert.alert_id)
        if earlier is not None:
            try:
                answer = await asyncio.wait_for(asyncio.shield(earlier), CLAIM_WAIT_SECONDS)
            except TimeoutError:
                answer = None  # the store's claim decides, as for another process
            if answer is not None:
                return AlertAccepted(case_id=answer.case_id, status=AlertStatus.DUPLICATE)
            return await take_alert(alert, task_queue, store, client)
        if len(self._answers) >= self._limit:
            raise ApiError(503, "intake_busy", "too many alerts in flight; retry", RETRY_AFTER)
        mine = self._answers[alert.alert_id] = asyncio.get_running_loop().create_future()
        answer = None
        try:
            answer = await take_alert(alert, task_queue, store, client)
            return answer
        finally:
            # None tells waiters this delivery failed: each then tries on its own.
            mine.set_result(answer)
            del self._answers[alert.alert_id]


def _look(alert: Alert) -> Callable[[Connection], tuple[IntakeRecord | None, KeyOwner | None]]:
    def look(connection: Connection) -> tuple[IntakeRecord | None, KeyOwner | None]:
        intake = AlertIntake(connection)
        return intake.find(alert.alert_id), intake.key_owner(alert.key_id)

    return look


async def take_alert(alert: Alert, task_queue: str, store: Store, client: Client) -> AlertAccepted:
    """Route the alert to its key's case and say how (opened, attached, duplicate)."""
    previous, key = await store.read(_look(alert))  # a read, no write lock
    if previous is not None and previous.case_id is not None:
        return _duplicate(previous)
    problem = refusal(alert, key)
    if problem is not None:
        raise ApiError(404 if problem.unknown else 409, problem.code, problem.message)
    settled = await _claim(alert, store)
    if settled is not None:
        return _duplicate(settled)
    try:
        case_id, started = await signal_with_start(alert, task_queue, client)
    except BaseException:
        await store.write(lambda c: AlertIntake(c).release(alert.alert_id))
        raise
    now = datetime.now(UTC)
    record = await store.write(
        partial(_settle, alert=alert, case_id=case_id, opened=started, now=now)
    )
    if record.case_id != case_id:  # our claim was taken over and settled first
        return _duplicate(record)
    status = AlertStatus.OPENED if started else AlertStatus.ATTACHED
    return AlertAccepted(case_id=case_id, status=status)


async def _claim(alert: Alert, store: Store) -> IntakeRecord | None:
    """None once this request holds the claim; the settled record if another settled it."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + CLAIM_WAIT_SECONDS
    while True:
        now = datetime.now(UTC)
        held, claimed = await store.write(partial(_claim_id, alert=alert, now=now))
        if claimed:
            return None
        if held is not None and held.case_id is not None:
            return held
        if held is not None and await store.write(partial(_take_over, alert=alert, now=now)):
            return None
        if loop.time() > give_up:
            raise ApiError(
                503,
                "alert_in_progress",
                f"alert {alert.alert_id} is being taken in; retry",
                RETRY_AFTER,
            )
        await asyncio.sleep(_POLL_SECONDS)


def _settle(
    connection: Connection, alert: Alert, case_id: str, opened: bool, now: datetime
) -> IntakeRecord:
    """Settle the claim; for a case this alert opened, flag its key at once as well."""
    record = AlertIntake(connection).settle(alert.alert_id, alert.key_id, case_id, now)
    if opened and record.case_id == case_id:
        try:
            with connection.begin_nested():
                apply_measure(connection, opening_measure(case_id, alert.key_id, now), now)
        except Exception:  # the case's first turn applies it anyway; the alert is in
            log.warning("first measure for %s left to its case", case_id, exc_info=True)
    return record


def _claim_id(
    connection: Connection, alert: Alert, now: datetime
) -> tuple[IntakeRecord | None, bool]:
    return AlertIntake(connection).claim(alert.alert_id, alert.key_id, now)


def _take_over(connection: Connection, alert: Alert, now: datetime) -> bool:
    """Take over a claim left unsettled for STALE_CLAIM (its holder likely died)."""
    return AlertIntake(connection).take_over(alert.alert_id, now - STALE_CLAIM, now)


async def signal_with_start(alert: Alert, task_queue: str, client: Client) -> tuple[str, bool]:
    """Put the alert into its key's case, starting one if none runs: (case id, started)."""
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        KeyCaseInput(key_id=alert.key_id, account_id=alert.account_id, exchange=alert.exchange),
        id=case_workflow_id(alert.key_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal=SignalName.ALERT,
        start_signal_args=[alert],
        static_summary=case_summary(alert.key_id, alert.exchange),
        rpc_timeout=HANDOVER_TIMEOUT,
    )
    run_id = handle.result_run_id
    assert run_id is not None  # the server always names the run that took the signal
    started = _started(handle)
    if started or run_id == handle.first_execution_run_id:
        return case_id_for(alert.key_id, run_id), started  # the case this run opened
    # A later run of the key's workflow: one that carries a long case on, or one that
    # opened the key's next case. Its search attributes say which (one more round trip,
    # paid only once a key's workflow has moved past its first run).
    run = await client.get_workflow_handle(handle.id, run_id=run_id).describe()
    return held_case(run), started


def _started(handle: WorkflowHandle[object, object]) -> bool:
    # The SDK keeps the signal-with-start response (with its `started` flag) only on
    # this attribute; temporalio 1.35 has no public accessor for it.
    response = handle._start_workflow_response
    return isinstance(response, SignalWithStartWorkflowExecutionResponse) and response.started


def _duplicate(record: IntakeRecord) -> AlertAccepted:
    assert record.case_id is not None
    return AlertAccepted(case_id=record.case_id, status=AlertStatus.DUPLICATE)
