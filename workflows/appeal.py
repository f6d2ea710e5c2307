"""AppealWorkflow: an officer's review of one expired case, filed for its owner.

The case's own workflow ended at the expiry, and expiry stays irreversible, so an appeal
is a workflow of its own, named after the case (`appeal-<case_id>`): a second appeal of
the same case is refused at start. It shows `CaseStage=APPEAL_REVIEW` until an officer
upholds or rejects it, records the decision, then tells the owner by e-mail and SMS.
"""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.activity_io import ActivityName, SendNoticeInput
    from domain.appeals import (
        STAGE_OF,
        AppealDecision,
        AppealInput,
        AppealState,
        AppealStatus,
        QueryName,
        UpdateName,
        decided,
        decision_refusal,
    )
    from domain.ids import APPEAL_WORKFLOW_TYPE
    from domain.notices import NoticeKind
    from domain.search_attributes import CASE_ID, CASE_STAGE, EXCHANGE, KEY_ID

from workflows.case_effects import STORE_RETRY, STORE_TIMEOUT, send_notice

NOTICE_OF = {
    AppealStatus.UPHELD: NoticeKind.APPEAL_UPHELD,
    AppealStatus.REJECTED: NoticeKind.APPEAL_REJECTED,
}


@workflow.defn(name=APPEAL_WORKFLOW_TYPE)
class AppealWorkflow:
    """Waits for an officer's decision on an appeal, records it and tells the owner."""

    @workflow.init
    def __init__(self, filing: AppealInput) -> None:
        self._state = AppealState(
            case_id=filing.case_id,
            key_id=filing.key_id,
            filed_by=filing.filed_by,
            filed_at=filing.filed_at,
        )
        self._decision: AppealDecision | None = None
        self._recorded = False

    @workflow.run
    async def run(self, filing: AppealInput) -> AppealState:
        """Record the filing, wait for the decision, record it, send the owner's notice."""
        workflow.upsert_search_attributes(
            [
                KEY_ID.value_set(filing.key_id),
                CASE_ID.value_set(filing.case_id),
                EXCHANGE.value_set(filing.exchange),
                CASE_STAGE.value_set(STAGE_OF[AppealStatus.REVIEW].value),
            ]
        )
        await self._store(ActivityName.RECORD_APPEAL_FILED, filing, "record the appeal")
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        self._state = decided(
            self._state, self._decision, workflow.now(), filing.replacement_cooldown
        )
        await self._store(ActivityName.RECORD_APPEAL_DECISION, self._state, "record the decision")
        workflow.upsert_search_attributes(
            [CASE_STAGE.value_set(STAGE_OF[self._state.status].value)]
        )
        self._recorded = True
        await self._tell_owner(filing)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state

    @workflow.update(name=UpdateName.DECIDE)
    async def decide(self, decision: AppealDecision) -> AppealState:
        """An officer upholds or rejects the appeal; answers once the decision is recorded."""
        self._decision = decision
        await workflow.wait_condition(lambda: self._recorded)
        return self._state

    @decide.validator
    def _check(self, decision: AppealDecision) -> None:
        if self._decision is not None and self._state.status is AppealStatus.REVIEW:
            raise ValueError(f"the appeal of case {self._state.case_id} is being decided already")
        refusal = decision_refusal(self._state, decision)
        if refusal:
            raise ValueError(refusal)

    @workflow.query(name=QueryName.APPEAL)
    def appeal(self) -> AppealState:
        """The appeal now."""
        return self._state

    async def _store(self, activity: str, argument: object, summary: str) -> None:
        await workflow.execute_activity(
            activity,
            argument,
            result_type=bool,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
            summary=summary,
        )

    async def _tell_owner(self, filing: AppealInput) -> None:
        """The decision's notice; a send that gives up is in the outbox and the audit log."""
        kind = NOTICE_OF[self._state.status]
        notice = SendNoticeInput(
            notice_id=kind.value,
            case_id=filing.case_id,
            key_id=filing.key_id,
            account_id=filing.account_id,
            exchange=filing.exchange,
            notice=kind,
            severity=filing.severity,
            detected=filing.detected,
            deadline=self._state.replacement_allowed_from,
            occurred_at=self._state.decided_at or workflow.now(),
            officer_reason=self._state.decision_reason,
        )
        try:
            await send_notice(notice)
        except (ActivityError, ApplicationError) as error:
            workflow.logger.warning("appeal notice %s gave up: %s", kind.value, error)
            return
        self._state = self._state.model_copy(update={"notices": [*self._state.notices, kind.value]})
