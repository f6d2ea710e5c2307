"""The case an appeal names, read back from the audit log once Temporal's retention has
removed its runs (the audit log outlives them: it is the record)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.alerts import AlertKind, Severity
from domain.appeals import EndedCase
from domain.audit_events import EventType
from domain.stages import CaseStage


class AuditRow(Protocol):
    """The fields of an audit row the audit-log reading below needs."""

    @property
    def event_type(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def ended_case_from_audit(case_id: str, rows: Sequence[AuditRow]) -> EndedCase | None:
    """The case as its audit rows tell it, once Temporal's retention has removed its runs;
    None without the rows that name its key's account and exchange."""
    opened = next((r for r in rows if r.event_type == EventType.CASE_OPENED), None)
    if opened is None:
        return None
    alerts = [r.payload for r in rows if r.event_type == EventType.ALERT_RECEIVED]
    closed = next((r for r in reversed(rows) if r.event_type == EventType.CASE_CLOSED), None)
    stage = CaseStage(closed.payload["stage"]) if closed else CaseStage.MONITORING
    severities = [Severity(a["severity"]) for a in alerts if a.get("severity") in set(Severity)]
    return EndedCase(
        case_id=case_id,
        key_id=opened.key_id,
        account_id=str(opened.payload["account_id"]),
        exchange=str(opened.payload["exchange"]),
        severity=max(severities, key=lambda s: s.rank, default=Severity.LOW),
        detected=list(
            dict.fromkeys(AlertKind(a["kind"]) for a in alerts if a.get("kind") in set(AlertKind))
        ),
        stage=stage,
        expired_at=closed.occurred_at if closed and stage is CaseStage.EXPIRED else None,
    )
