"""Recorded cases, read back from the audit log for a policy dry-run (`domain.policy_replay`).

    histories = await store.scan(lambda c: case_histories(c, opened_since, "upbit"))

Each case is rebuilt from its own facts: `case.opened` (who, where, when), every
`alert.received`, `kyc.result` and `officer.action` (the inputs, at the times they were
recorded) and `case.closed` (how it ended). Nothing is written.
"""

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from domain.alerts import Alert
from domain.audit_events import EventType
from domain.messages import KycResult
from domain.officer import OFFICER_INPUTS, OfficerAction
from domain.policy_replay import CaseHistory, RecordedInput
from domain.stages import CaseStage
from store.models import AuditEntry

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
