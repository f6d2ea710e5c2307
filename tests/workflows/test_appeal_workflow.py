"""AppealWorkflow on the time-skipping server, with the real store activities (SQLite) and
the real notice activity (console channels): a review waits for days, a decision is recorded
once, told to the owner once per channel, and final."""

import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.appeals import AppealActivities
from activities.notifications.activity import NoticeActivities
from activities.notifications.console import ConsoleEmail, ConsoleSms
from activities.notifications.renderer import NoticeRenderer
from domain.alerts import AlertKind, Severity
from domain.appeals import AppealDecision, AppealInput, AppealState, AppealStatus, UpdateName
from domain.audit_events import EventType
from domain.ids import appeal_workflow_id
from domain.notices import DeliveryStatus
from domain.search_attributes import CASE_ID, CASE_STAGE
from store.accounts import upsert_account
from store.appeals import get_appeal
from store.audit import audit_rows
from store.engine import open_store
from store.outbox import NotificationOutbox
from store.port import Store
from tests.store.databases import sqlite_database
from workflows.appeal import AppealWorkflow

COOLDOWN = timedelta(hours=12)
Handle = WorkflowHandle[AppealWorkflow, AppealState]


@dataclass
class AppealDesk:
    env: WorkflowEnvironment
    store: Store
    task_queue: str
    email: io.StringIO
    sms: io.StringIO

    def filing(self, case_id: str) -> AppealInput:
        return AppealInput(
            case_id=case_id,
            key_id=case_id.split(".")[0],
            account_id="acct-1",
            exchange="upbit",
            severity=Severity.HIGH,
            detected=[AlertKind.KEY_SHARING],
            expired_at=datetime(2026, 3, 1, tzinfo=UTC),
            statement="The second address is my office.",
            filed_by="help-desk",
            filed_at=datetime(2026, 3, 2, tzinfo=UTC),
            replacement_cooldown=COOLDOWN,
        )

    async def file(self) -> tuple[str, Handle]:
        case_id = f"key-{uuid.uuid4().hex[:8]}.run-1"
        handle = await self.env.client.start_workflow(
            AppealWorkflow.run,
            self.filing(case_id),
            id=appeal_workflow_id(case_id),
            task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        return case_id, handle


@pytest_asyncio.fixture
async def desk(time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[AppealDesk]:
    store = open_store(sqlite_database(tmp_path))
    await store.write(
        lambda c: upsert_account(
            c, account_id="acct-1", email="owner@example.com", phone="+821012345678"
        )
    )
    email, sms = io.StringIO(), io.StringIO()
    notices = NoticeActivities(store, ConsoleEmail(email), ConsoleSms(sms), NoticeRenderer())
    appeals = AppealActivities(store)
    task_queue = f"appeals-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        time_skipping_env.client,
        task_queue=task_queue,
        workflows=[AppealWorkflow],
        activities=[
            appeals.record_appeal_filed,
            appeals.record_appeal_decision,
            notices.send_notice,
        ],
        workflow_failure_exception_types=[Exception],
    )
    async with worker:
        yield AppealDesk(time_skipping_env, store, task_queue, email, sms)
    await store.close()


def _decision(upheld: bool, reason: str = "the office address is on file") -> AppealDecision:
    return AppealDecision(upheld=upheld, actor="kim", reason=reason)


async def _stage(handle: Handle) -> str | None:
    described = await handle.describe()
    return described.typed_search_attributes.get(CASE_STAGE)


async def test_a_review_waits_for_weeks_then_an_upheld_decision_is_recorded_and_told(
    desk: AppealDesk,
) -> None:
    case_id, handle = await desk.file()
    await desk.env.sleep(timedelta(days=20))

    assert await _stage(handle) == "APPEAL_REVIEW"
    assert (await handle.describe()).typed_search_attributes.get(CASE_ID) == case_id
    before = await desk.env.get_current_time()
    answer = await handle.execute_update(
        UpdateName.DECIDE, _decision(True), result_type=AppealState
    )
    final = await handle.result()

    assert answer.status is AppealStatus.UPHELD
    assert answer.decided_at is not None and answer.decided_at >= before
    assert answer.replacement_allowed_from == answer.decided_at + COOLDOWN
    assert final.notices == ["appeal_upheld"]
    assert await _stage(handle) == "APPEAL_UPHELD"
    record = await desk.store.read(lambda c: get_appeal(c, case_id))
    assert record is not None and record.status is AppealStatus.UPHELD
    assert record.replacement_allowed_from == answer.replacement_allowed_from
    rows = await desk.store.read(lambda c: audit_rows(c, case_id=case_id))
    assert [r.event_type for r in rows] == [
        EventType.APPEAL_FILED,
        EventType.APPEAL_UPHELD,
        EventType.NOTICE_SENT,
    ]
    assert rows[1].actor == "kim"
    sent = await desk.store.read(lambda c: NotificationOutbox(c).for_case(case_id))
    assert sorted((e.channel.value, e.status) for e in sent) == [
        ("email", DeliveryStatus.SENT),
        ("sms", DeliveryStatus.SENT),
    ]
    assert "이의 신청이" in desk.email.getvalue()  # the owner's locale: Korean
    assert desk.sms.getvalue().count(case_id.split(".")[0]) == 1


async def test_a_rejected_appeal_is_final(desk: AppealDesk) -> None:
    case_id, handle = await desk.file()

    answer = await handle.execute_update(
        UpdateName.DECIDE, _decision(False, "lent to a bot operator"), result_type=AppealState
    )
    await handle.result()

    assert answer.status is AppealStatus.REJECTED
    assert answer.replacement_allowed_from is None
    assert await _stage(handle) == "APPEAL_REJECTED"
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(UpdateName.DECIDE, _decision(True), result_type=AppealState)
    record = await desk.store.read(lambda c: get_appeal(c, case_id))
    assert record is not None and record.status is AppealStatus.REJECTED
    assert record.decision_reason == "lent to a bot operator"
    assert "rejected" in desk.email.getvalue() or "기각" in desk.email.getvalue()


async def test_a_decision_without_a_reason_is_refused_before_it_reaches_history(
    desk: AppealDesk,
) -> None:
    _, handle = await desk.file()

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            UpdateName.DECIDE, _decision(True, "   "), result_type=AppealState
        )

    assert "needs a reason" in str(refused.value.cause)
    assert await _stage(handle) == "APPEAL_REVIEW"
    await handle.execute_update(UpdateName.DECIDE, _decision(False), result_type=AppealState)
    await handle.result()


async def test_a_second_appeal_of_the_same_case_is_refused_even_after_the_first_ended(
    desk: AppealDesk,
) -> None:
    case_id, handle = await desk.file()
    await handle.execute_update(UpdateName.DECIDE, _decision(False), result_type=AppealState)
    await handle.result()

    with pytest.raises(WorkflowAlreadyStartedError):
        await desk.env.client.start_workflow(
            AppealWorkflow.run,
            desk.filing(case_id),
            id=appeal_workflow_id(case_id),
            task_queue=desk.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
