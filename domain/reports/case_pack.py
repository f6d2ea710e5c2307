"""The case pack: everything a regulator asks about one case, built from stored facts only.

`build_case_pack` is pure: it takes the case's audit rows (as `ChainRow`s), the notices as
the outbox kept them, and the chain proof taken at export, and says it all in one language.
Nothing here needs the case's workflow, so a pack still works after Temporal's retention.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.anchors import Anchor
from domain.audit_events import AuditRecord
from domain.reports import wording
from domain.reports.kst import kst


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


ChainRow = AuditRecord  # one audit row, as the report reads it


class NoticeCopy(_Model):
    """One notice on one channel as the outbox kept it: the text the owner received."""

    notice_id: str
    channel: str
    status: str
    provider: str | None
    provider_message_id: str | None
    attempts: int
    last_attempt_at: AwareDatetime | None
    subject: str | None
    body: str


class ChainProof(_Model):
    """The chain at export: its head (anchored with the report) and the verify result."""

    head_seq: int | None
    head_hash: str | None
    anchor: Anchor | None
    ok: bool
    rows_checked: int
    first_bad_row: int | None = None
    problem: str | None = None
    anchors_checked: int = 0
    first_bad_anchor: int | None = None
    anchor_problem: str | None = None


class TimelineRow(_Model):
    seq: int
    at: str  # KST
    actor: str
    event_type: str
    text: str
    row_hash: str
    prev_hash: str


class Receipt(_Model):
    status: str
    at: str
    detail: str | None = None


class NoticeEntry(_Model):
    notice_id: str
    kind: str
    channel: str
    status: str
    provider: str | None
    provider_message_id: str | None
    sent_at: str
    subject: str | None
    body: str
    receipts: list[Receipt] = Field(default_factory=list)


class AlertEntry(_Model):
    alert_id: str
    kind: str
    severity: str
    observed_at: str
    received_at: str
    source: str
    evidence: dict[str, Any]


class Decision(_Model):
    at: str
    actor: str
    action: str
    reason: str
    detail: str | None = None


class KycEntry(_Model):
    at: str
    actor: str
    passed: bool
    reference: str


class KeyChangeEntry(_Model):
    at: str
    actor: str
    measure: str
    change: str  # "ACTIVE → MONITORED", or the status kept
    reason: str | None
    read_back: str | None = None  # words for the expiry's read-back, when there is one


class CasePack(_Model):
    """One case's pack in one language; every list is complete (no row is left out)."""

    lang: str
    case_id: str
    key_id: str
    account_id: str | None
    exchange: str | None
    policy_version: str | None
    stage: str | None
    opened_at: str
    closed_at: str | None
    close_reason: str | None  # the last stage change's reason, in the ladder's words
    first_told_at: str | None  # the first notice a provider accepted, and on which channel
    key_expired_at: str | None
    generated_at: str
    alerts: list[AlertEntry]
    notices: list[NoticeEntry]
    decisions: list[Decision]
    kyc: list[KycEntry]
    key_changes: list[KeyChangeEntry]
    timeline: list[TimelineRow]
    proof: ChainProof


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _instant(value: Any) -> str:
    return kst(datetime.fromisoformat(value)) if isinstance(value, str) else ""


def _notices(
    rows: Sequence[ChainRow], copies: Sequence[NoticeCopy], lang: str
) -> list[NoticeEntry]:
    kinds: dict[str, str] = {}
    for row in rows:
        if row.event_type == "notice.sent":
            kinds[str(row.payload.get("notice_id"))] = str(row.payload.get("kind"))
    receipts: dict[tuple[str, str], list[Receipt]] = {}
    for row in rows:
        if row.event_type == "notice.delivery":
            p = row.payload
            receipts.setdefault((str(p.get("notice_id")), str(p.get("channel"))), []).append(
                Receipt(
                    status=wording.delivery(_text(p.get("status")), lang),
                    at=_instant(p.get("occurred_at")) or kst(row.occurred_at),
                    detail=p.get("detail"),
                )
            )
    return [
        NoticeEntry(
            notice_id=copy.notice_id,
            kind=wording.notice_kind(kinds.get(copy.notice_id, copy.notice_id), lang),
            channel=wording.channel(copy.channel, lang),
            status=wording.delivery(copy.status, lang),
            provider=copy.provider,
            provider_message_id=copy.provider_message_id,
            sent_at=kst(copy.last_attempt_at),
            subject=copy.subject,
            body=copy.body,
            receipts=receipts.get((copy.notice_id, copy.channel), []),
        )
        for copy in copies
    ]


def _alert(row: ChainRow, lang: str) -> AlertEntry:
    p = row.payload
    evidence = p.get("evidence") if isinstance(p.get("evidence"), dict) else {}
    detector = evidence.get("detector") if isinstance(evidence, dict) else None
    return AlertEntry(
        alert_id=_text(p.get("alert_id")),
        kind=wording.kind(_text(p.get("kind")), lang),
        severity=wording.severity(_text(p.get("severity")), lang),
        observed_at=_instant(p.get("observed_at")),
        received_at=kst(row.occurred_at),
        source=_text(detector or row.actor),
        evidence=dict(evidence or {}),
    )


def _key_changes(rows: Sequence[ChainRow], lang: str) -> list[KeyChangeEntry]:
    read_backs = {
        row.event_id.removesuffix(":read-back"): wording.describe(row.event_type, row.payload, lang)
        for row in rows
        if row.event_type == "key.expiry_read_back"
    }
    return [
        KeyChangeEntry(
            at=kst(row.occurred_at),
            actor=row.actor,
            measure=_text(row.payload.get("measure")),
            change=(
                f"{row.payload.get('from')} → {row.payload.get('to')}"
                if row.event_type == "key.status_changed"
                else _text(row.payload.get("to"))
            ),
            reason=row.payload.get("reason"),
            read_back=read_backs.get(row.event_id),
        )
        for row in rows
        if row.event_type in ("key.status_changed", "key.status_unchanged")
    ]


def _last_stage(rows: Sequence[ChainRow]) -> str | None:
    stages = [r.payload.get("stage") for r in rows if r.event_type == "stage.changed"]
    return _text(stages[-1]) if stages else None


def _first_told(rows: Sequence[ChainRow], lang: str) -> str | None:
    for row in rows:
        if row.event_type != "notice.sent":
            continue
        for outcome in row.payload.get("channels") or []:
            if isinstance(outcome, dict) and outcome.get("status") in ("sent", "delivered"):
                name = wording.notice_kind(_text(row.payload.get("kind")), lang)
                via = wording.channel(_text(outcome.get("channel")), lang)
                return f"{kst(row.occurred_at)} · {name} · {via}"
    return None


def build_case_pack(
    case_id: str,
    rows: Sequence[ChainRow],
    copies: Sequence[NoticeCopy],
    proof: ChainProof,
    generated_at: datetime,
    lang: str = "ko",
) -> CasePack:
    """The pack of `case_id` from its audit rows (chain order) and its outbox copies."""
    opened = next((r for r in rows if r.event_type == "case.opened"), None)
    closed = next((r for r in rows if r.event_type == "case.closed"), None)
    last = _last_stage(rows)
    reasons = [r.payload.get("reason") for r in rows if r.event_type == "stage.changed"]
    expired = next(
        (
            r
            for r in rows
            if r.event_type == "key.status_changed" and r.payload.get("to") == "EXPIRED"
        ),
        None,
    )
    return CasePack(
        lang=lang,
        case_id=case_id,
        key_id=rows[0].key_id if rows else case_id.split(".", 1)[0],
        account_id=opened.payload.get("account_id") if opened else None,
        exchange=opened.payload.get("exchange") if opened else None,
        policy_version=opened.payload.get("policy_version") if opened else None,
        stage=wording.stage(last, lang) if last else None,
        opened_at=kst(opened.occurred_at if opened else (rows[0].occurred_at if rows else None)),
        closed_at=kst(closed.occurred_at) if closed else None,
        close_reason=wording.reason(_text(reasons[-1]), lang) if closed and reasons else None,
        first_told_at=_first_told(rows, lang),
        key_expired_at=kst(expired.occurred_at) if expired else None,
        generated_at=kst(generated_at),
        alerts=[_alert(r, lang) for r in rows if r.event_type == "alert.received"],
        notices=_notices(rows, copies, lang),
        decisions=[
            Decision(
                at=kst(r.occurred_at),
                actor=r.actor,
                action=wording.action(_text(r.payload.get("action")), lang),
                reason=_text(r.payload.get("reason")),
                detail=r.payload.get("deadline")
                or r.payload.get("assignee")
                or r.payload.get("text"),
            )
            for r in rows
            if r.event_type == "officer.action"
        ],
        kyc=[
            KycEntry(
                at=kst(r.occurred_at),
                actor=r.actor,
                passed=bool(r.payload.get("passed")),
                reference=_text(r.payload.get("reference")),
            )
            for r in rows
            if r.event_type == "kyc.result"
        ],
        key_changes=_key_changes(rows, lang),
        timeline=[
            TimelineRow(
                seq=r.seq,
                at=kst(r.occurred_at),
                actor=r.actor,
                event_type=r.event_type,
                text=wording.describe(r.event_type, r.payload, lang),
                row_hash=r.row_hash,
                prev_hash=r.prev_hash,
            )
            for r in rows
        ],
        proof=proof,
    )
