"""How the case workflow reaches its side effects: activity names, options and batching.

Store writes are fast and idempotent, so they run as local activities (one marker event
each, no extra workflow task). Notices call SendGrid and Twilio, which may be slow or
down for a while, so `send_notice` is a regular activity with backoff.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import audit_events, case_reactions, first_measure
    from domain.activity_io import (
        ActivityName,
        ApplyKeyMeasureInput,
        AuditFact,
        ChannelOutcome,
        KeyStateResult,
        RecordCaseFactsInput,
        RecordCaseFactsResult,
        SendNoticeInput,
        SendNoticeResult,
        StoreRefusal,
    )
    from domain.case import CaseState
    from domain.policy import LadderPolicy, LoadPolicyInput, LoadPolicyResult

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
# A provider outage longer than this shows as a failed notice rather than a stuck case.
NOTICE_GIVE_UP_AFTER = timedelta(hours=6)
NOTICE_ATTEMPT_TIMEOUT = timedelta(minutes=2)
# The activity heartbeats every second: a worker lost mid-send is noticed after this, and
# the retry (which settles the attempt in doubt through the outbox) follows 2 s later.
# Activity options are not compared on replay, so running cases take these as they are.
NOTICE_HEARTBEAT_TIMEOUT = timedelta(seconds=5)
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)
FACTS_PER_WRITE = 500  # keeps one store transaction (and one marker) small under a flood


async def load_policy(case_id: str, exchange: str) -> LadderPolicy:
    """The effective policy of the case's exchange, from the worker's file; the case pins it.

    The same local activity as before with one more input field (inputs are not compared
    on replay), so no patch: older histories replay with the policy their marker holds.
    """
    result: LoadPolicyResult = await workflow.execute_local_activity(
        ActivityName.LOAD_POLICY,
        LoadPolicyInput(case_id=case_id, exchange=exchange),
        result_type=LoadPolicyResult,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
        summary="pin the ladder policy",
    )
    return result.policy


async def record_facts(facts: list[AuditFact]) -> list[StoreRefusal]:
    """Append facts to the audit log, in writes of bounded size; what the store refused.

    A refusal never fails the case's run: a write refused as a whole (a non-retryable
    error) comes back as a refusal of each of its facts.
    """
    refused: list[StoreRefusal] = []
    for start in range(0, len(facts), FACTS_PER_WRITE):
        batch = facts[start : start + FACTS_PER_WRITE]
        try:
            result: RecordCaseFactsResult = await workflow.execute_local_activity(
                ActivityName.RECORD_CASE_FACTS,
                RecordCaseFactsInput(facts=batch),
                result_type=RecordCaseFactsResult,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
        except (ActivityError, ApplicationError) as error:
            reason = _cause(error)[:500]
            workflow.logger.error("the store refused %d fact(s): %s", len(batch), reason)
            refused.extend(
                StoreRefusal(event_id=f.event_id, event_type=f.event_type, reason=reason)
                for f in batch
            )
        else:
            refused.extend(result.refused)
    return refused


def _cause(error: ActivityError | ApplicationError) -> str:
    # A local activity's failure arrives unwrapped, as the ApplicationError itself.
    return str(error.cause or error) if isinstance(error, ActivityError) else str(error)


async def apply_key_measure(request: ApplyKeyMeasureInput) -> KeyStateResult:
    """Change the key in the registry, recording the given facts in the same transaction."""
    result: KeyStateResult = await workflow.execute_local_activity(
        ActivityName.APPLY_KEY_MEASURE,
        request,
        result_type=KeyStateResult,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
        summary=f"key: {request.measure.value}",
    )
    return result


async def send_notice(request: SendNoticeInput) -> SendNoticeResult:
    """Send a notice on every channel; raises ActivityError if it gave up."""
    result: SendNoticeResult = await workflow.execute_activity(
        ActivityName.SEND_NOTICE,
        request,
        result_type=SendNoticeResult,
        start_to_close_timeout=NOTICE_ATTEMPT_TIMEOUT,
        heartbeat_timeout=NOTICE_HEARTBEAT_TIMEOUT,
        schedule_to_close_timeout=NOTICE_GIVE_UP_AFTER,
        retry_policy=NOTICE_RETRY,
        summary=f"notice: {request.notice_id}",
    )
    return result


Sent = tuple[list[ChannelOutcome], str | None]  # per-channel outcomes, or why it gave up


async def apply_measure(
    state: CaseState, request: case_reactions.MeasureRequest, facts: list[AuditFact]
) -> tuple[CaseState, list[StoreRefusal]]:
    """Apply a key measure with its facts; a refusal is recorded and the case goes on."""
    measure = request.measure.value
    try:
        result = await apply_key_measure(
            ApplyKeyMeasureInput(
                event_id=first_measure.measure_event_id(state.case_id, request.measure),
                case_id=state.case_id,
                key_id=state.key_id,
                measure=request.measure,
                actor=request.actor,
                reason=request.reason[:500],
                occurred_at=workflow.now(),
                facts=facts,
            )
        )
    except (ActivityError, ApplicationError) as error:
        # A refused measure (say, a key missing from the registry) must not lose the case:
        # the facts are kept and officers see the failure in the audit log.
        cause = _cause(error)
        workflow.logger.error("key measure %s failed for %s: %s", measure, state.key_id, cause)
        failed = audit_events.key_measure_failed(state, measure, cause, workflow.now())
        return state, await record_facts([*facts, failed])
    return case_reactions.on_measure(state, result), list(result.refused)


async def send(state: CaseState, notice: case_reactions.NoticeRequest) -> Sent:
    """Send one notice of the case; a send that gave up is an outcome, not an error."""
    request = SendNoticeInput(
        notice_id=notice.notice_id,
        case_id=state.case_id,
        key_id=state.key_id,
        account_id=state.account_id,
        exchange=state.exchange,
        notice=notice.kind,
        severity=state.severity,
        detected=list(state.alerts.kinds),
        deadline=notice.deadline,
        occurred_at=workflow.now(),
        channels=list(notice.channels),
        expiry_reason=notice.expiry_reason,
        officer_reason=notice.officer_reason,
    )
    try:
        result = await send_notice(request)
    except ActivityError as error:
        return [], f"gave up: {error.cause or error}"
    return list(result.outcomes), None
