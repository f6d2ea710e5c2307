"""What reports read: a case pack's rows, a month's cases, recorded cases for a dry-run.

A case pack: the case's rows and notices, and the proof of the chain at export.

    rows, copies = await store.scan(lambda c: case_facts(c, case_id))
    proof = await store.scan(lambda c: chain_proof(c, anchor, signature_ok))

Long reads go through `Store.scan` (the engine's own connection, off the write path) and
page through the audit log in batches, so a case with thousands of rows is read whole.

What the monthly report reads: the month's cases' audit rows, notices and key changes.

    events = month_events(connection, start, end)   # an iterator: read it inside the scan

Cases belong to the month of their `case.opened` row; their rows are streamed in case
order (then chain order), `yield_per` rows at a time, so 10,000 cases never sit in memory
as ORM objects.

Recorded cases, read back from the audit log for a policy dry-run (`domain.policy_replay`).

    histories = await store.scan(lambda c: case_histories(c, opened_since, "upbit"))

Each case is rebuilt from its own facts: `case.opened` (who, where, when), every
`alert.received`, `kyc.result` and `officer.action` (the inputs, at the times they were
recorded) and `case.closed` (how it ended). Nothing is written.
"""

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.orm import aliased

from domain.alerts import Alert
from domain.anchors import Anchor
from domain.audit_events import AuditRecord, EventType
from domain.messages import KycResult
from domain.officer import OFFICER_INPUTS, OfficerAction
from domain.policy_replay import CaseHistory, RecordedInput
from domain.reports.case_pack import ChainProof, ChainRow, NoticeCopy
from domain.reports.monthly import CaseEvent, NoticeOutcome
from domain.stages import CaseStage
from store.anchors import verify_anchored
from store.audit import audit_rows
from store.models import AuditEntry
from store.outbox import NotificationOutbox, OutboxRow

PAGE = 1000


def each_row(connection: Connection, *, case_id: str, page: int = PAGE) -> Iterator[AuditRecord]:
    """Every audit row of the case, in chain order, read `page` rows at a time."""
    after = 0
    while True:
        batch = audit_rows(connection, case_id=case_id, after_seq=after, limit=page)
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].seq


def case_facts(connection: Connection, case_id: str) -> tuple[list[ChainRow], list[NoticeCopy]]:
    """The case's audit rows (all of them) and its notices as the outbox kept them."""
    rows = [ChainRow.model_validate(r.model_dump()) for r in each_row(connection, case_id=case_id)]
    copies = [
        NoticeCopy(
            notice_id=entry.notice_id,
            channel=entry.channel.value,
            status=entry.status.value,
            provider=entry.provider,
            provider_message_id=entry.provider_message_id,
            attempts=entry.attempts,
            last_attempt_at=entry.last_attempt_at,
            subject=entry.subject,
            body=entry.body,
        )
        for entry in NotificationOutbox(connection).for_case(case_id)
    ]
    return rows, copies


def chain_proof(
    connection: Connection, anchor: Anchor | None, signature_ok: Callable[[Anchor], bool]
) -> ChainProof:
    """The whole chain verified against its anchors, with the head anchored for this export."""
    result = verify_anchored(connection, signature_ok)
    return ChainProof(
        head_seq=anchor.chain_seq if anchor else None,
        head_hash=anchor.row_hash if anchor else None,
        anchor=anchor,
        ok=result.ok,
        rows_checked=result.rows_checked,
        first_bad_row=result.first_bad_row,
        problem=result.problem,
        anchors_checked=result.anchors_checked,
        first_bad_anchor=result.first_bad_anchor,
        anchor_problem=result.anchor_problem,
    )


YIELD_PER = 5000


def _opened_in(start: datetime, end: datetime) -> Select[str | None]:
    return select(AuditEntry.case_id).where(
        AuditEntry.event_type == "case.opened",
        AuditEntry.occurred_at >= start,
        AuditEntry.occurred_at < end,
    )


def month_events(connection: Connection, start: datetime, end: datetime) -> Iterator[CaseEvent]:
    """Every audit row of the cases opened in [start, end), by case then seq."""
    query = (
        select(
            AuditEntry.case_id,
            AuditEntry.event_type,
            AuditEntry.occurred_at,
            AuditEntry.actor,
            AuditEntry.payload,
        )
        .where(AuditEntry.case_id.in_(_opened_in(start, end).scalar_subquery()))
        .order_by(AuditEntry.case_id, AuditEntry.seq)
        .execution_options(yield_per=YIELD_PER)
    )
    for row in connection.execute(query):
        yield CaseEvent(
            row.case_id, row.event_type, row.occurred_at, row.actor, json.loads(row.payload)
        )


def month_notices(connection: Connection, start: datetime, end: datetime) -> list[NoticeOutcome]:
    """The final word on each notice channel of the month's cases."""
    query = select(
        OutboxRow.case_id, OutboxRow.channel, OutboxRow.status, OutboxRow.provider_message_id
    ).where(OutboxRow.case_id.in_(_opened_in(start, end).scalar_subquery()))
    return [
        NoticeOutcome(r.case_id, r.channel, r.status, r.provider_message_id is not None)
        for r in connection.execute(query)
    ]


def month_key_changes(
    connection: Connection, start: datetime, end: datetime, exchange: str | None = None
) -> list[tuple[str, str]]:
    """(from, to) of every key-status change made in [start, end) (on `exchange`'s keys)."""
    opened = aliased(AuditEntry)
    query = (
        select(AuditEntry.payload, opened.payload.label("opened"))
        .join(
            opened,
            (opened.case_id == AuditEntry.case_id) & (opened.event_type == "case.opened"),
            isouter=True,
        )
        .where(
            AuditEntry.event_type == "key.status_changed",
            AuditEntry.occurred_at >= start,
            AuditEntry.occurred_at < end,
        )
    )
    changes: list[tuple[str, str]] = []
    for row in connection.execute(query):
        if exchange is not None:
            case_exchange = json.loads(row.opened).get("exchange") if row.opened else None
            if case_exchange != exchange:
                continue
        payload = json.loads(row.payload)
        changes.append((str(payload.get("from")), str(payload.get("to"))))
    return changes


CASES_PER_READ = 100  # cases rebuilt per read (and per step of the progress bar)
_INPUTS = (
    EventType.ALERT_RECEIVED,
    EventType.KYC_RESULT,
    EventType.OFFICER_ACTION,
    EventType.CASE_CLOSED,
)
_COLUMNS = (
    AuditEntry.case_id,
    AuditEntry.key_id,
    AuditEntry.event_type,
    AuditEntry.actor,
    AuditEntry.occurred_at,
    AuditEntry.payload,
)


def case_histories(
    connection: Connection,
    opened_since: datetime,
    exchange: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[CaseHistory]:
    """The cases opened since `opened_since` (on `exchange` only, if given), oldest first.

    `progress` is told how many cases each read rebuilt (for a progress bar).
    """
    opened = connection.execute(
        select(*_COLUMNS)
        .where(AuditEntry.event_type == EventType.CASE_OPENED)
        .where(AuditEntry.occurred_at >= opened_since)
        .order_by(AuditEntry.seq)
    ).all()
    heads = [row for row in opened if exchange is None or _payload(row)["exchange"] == exchange]
    histories: list[CaseHistory] = []
    for chunk in _chunks(heads, CASES_PER_READ):
        inputs: dict[str, list[Any]] = {row.case_id: [] for row in chunk}
        rows = connection.execute(
            select(*_COLUMNS)
            .where(AuditEntry.case_id.in_(list(inputs)), AuditEntry.event_type.in_(_INPUTS))
            .order_by(AuditEntry.seq)
        )
        for row in rows:
            inputs[row.case_id].append(row)
        histories.extend(_history(head, inputs[head.case_id]) for head in chunk)
        if progress is not None:
            progress(len(chunk))
    return histories


def count_cases(connection: Connection, opened_since: datetime) -> int:
    """How many cases opened since then (all exchanges): the progress bar's total."""
    query = select(func.count()).where(
        AuditEntry.event_type == EventType.CASE_OPENED, AuditEntry.occurred_at >= opened_since
    )
    return connection.scalar(query) or 0


def _history(head: Any, rows: list[Any]) -> CaseHistory:
    opened = _payload(head)
    recorded: list[RecordedInput] = []
    ended: CaseStage | None = None
    for row in rows:
        payload = _payload(row)
        if row.event_type == EventType.CASE_CLOSED:
            ended = CaseStage(payload["stage"])
        elif row.event_type == EventType.ALERT_RECEIVED:
            alert = Alert.model_validate({**payload, "key_id": row.key_id})
            recorded.append(RecordedInput(at=row.occurred_at, alert=alert))
        elif row.event_type == EventType.KYC_RESULT:
            result = KycResult(
                passed=payload["passed"],
                reference=payload["reference"],
                actor=row.actor,
                received_at=row.occurred_at,
            )
            recorded.append(RecordedInput(at=row.occurred_at, kyc=result))
        else:
            action = OfficerAction(payload["action"])
            fields = {k: v for k, v in payload.items() if k not in ("seq", "action")}
            command = OFFICER_INPUTS[action].model_validate({**fields, "actor": row.actor})
            recorded.append(RecordedInput(at=row.occurred_at, action=action, command=command))
    return CaseHistory(
        case_id=head.case_id,
        key_id=head.key_id,
        account_id=opened["account_id"],
        exchange=opened["exchange"],
        opened_at=head.occurred_at,
        inputs=tuple(recorded),
        recorded_stage=ended,
    )


def _payload(row: Any) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(row.payload)
    return payload


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
