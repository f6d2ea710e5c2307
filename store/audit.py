"""The append-only audit log: idempotent appends to one hash chain, reads, and `verify`.

    appended = await store.write(lambda c: append_facts(c, facts, now))
    rows = await store.read(lambda c: audit_rows(c, case_id=case_id))  # AuditRecords, in order
    report = await store.scan(verify)                                   # AuditVerification

Appends take the chain's lock (on PostgreSQL an advisory lock; SQLite's write lock is the
store's) and skip event ids already present, so a retried activity writes no second row;
`seq` and `prev_hash` are unique, so two writers that raced past a lock cannot both commit
a fork.

A case's `case.closed` fact brings its outcomes for surveillance (`store.outcomes`) into
the same transaction, numbered under the same lock.

The audit chain's hashing: canonical JSON of a row's fields plus the previous row's hash.

Pure functions, so `verify` and anyone holding an export can recompute every hash.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python
from sqlalchemy import Connection, Row, insert, select, text

from domain.activity_io import AuditFact
from domain.audit_events import AuditRecord, EventType
from domain.privacy import private_key_path
from store.models import AuditEntry
from store.outcomes import record_late_outcomes, record_outcomes

VERIFY_BATCH = 1000
# One advisory lock for the one audit chain ("keycase" in ASCII, as a bigint).
AUDIT_LOCK_ID = 0x6B6579636173


class AuditVerification(BaseModel):
    """The outcome of checking the whole chain; `first_bad_row` is that row's `seq`."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    rows_checked: int
    first_bad_row: int | None = None
    problem: str | None = None  # "sequence_gap", "broken_link" or "hash_mismatch"


class _ChainRow(Protocol):
    seq: int
    event_id: str
    event_type: str
    case_id: str | None
    key_id: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    payload: str
    prev_hash: str
    row_hash: str


def _hash_of(entry: _ChainRow) -> str:
    return row_hash(
        seq=entry.seq,
        event_id=entry.event_id,
        event_type=entry.event_type,
        case_id=entry.case_id,
        key_id=entry.key_id,
        actor=entry.actor,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        payload=entry.payload,
        prev_hash=entry.prev_hash,
    )


def append_facts(connection: Connection, facts: Sequence[AuditFact], now: datetime) -> int:
    """Append the facts not yet recorded (by event id); returns how many rows were written."""
    if not facts:
        return 0
    for fact in facts:
        check_payload(fact.payload)
    if connection.dialect.name == "postgresql":
        # Appends queue for the chain's head while other writes run on in parallel.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": AUDIT_LOCK_ID})
    recorded = recorded_event_ids(connection, [f.event_id for f in facts])
    head = connection.execute(_HEAD).first() if len(recorded) < len(facts) else None
    rows = _chain_rows(facts, recorded, head, now)
    if rows:
        connection.execute(insert(AuditEntry), rows)
    _record_outcomes(connection, facts, recorded, now)
    return len(rows)


def _record_outcomes(
    connection: Connection, facts: Sequence[AuditFact], recorded: set[str], now: datetime
) -> None:
    """Outcomes of the endings appended now (a retried write, its fact already in, adds none),
    and of alerts appended now to a case that had ended (an expired key's)."""
    ended: dict[str, AuditFact] = {}
    late: list[AuditFact] = []
    for fact in facts:
        if fact.event_id in recorded:
            continue
        if fact.event_type == EventType.CASE_CLOSED and fact.case_id:
            ended.setdefault(fact.case_id, fact)
        elif fact.event_type == EventType.ALERT_RECEIVED:
            late.append(fact)
    for case_id, closed in ended.items():
        record_outcomes(connection, case_id, closed.key_id, closed.payload, closed.occurred_at, now)
    if late:
        record_late_outcomes(connection, late, set(ended), now)


_HEAD = select(AuditEntry.seq, AuditEntry.row_hash).order_by(AuditEntry.seq.desc()).limit(1)


def recorded_event_ids(connection: Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of these event ids the chain already holds."""
    query = select(AuditEntry.event_id).where(AuditEntry.event_id.in_(set(event_ids)))
    return set(connection.scalars(query))


def _chain_rows(
    facts: Sequence[AuditFact], recorded: set[str], head: Row[int, str] | None, now: datetime
) -> list[dict[str, Any]]:
    """The new rows, chained on from `head`; facts already recorded (or repeated) are skipped."""
    seq, prev = (head.seq, head.row_hash) if head else (0, GENESIS)
    seen = set(recorded)
    rows: list[dict[str, Any]] = []
    for fact in facts:
        if fact.event_id in seen:
            continue  # already recorded, or repeated earlier in this batch
        seen.add(fact.event_id)
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "event_id": fact.event_id,
            "event_type": fact.event_type,
            "case_id": fact.case_id,
            "key_id": fact.key_id,
            "actor": fact.actor,
            "occurred_at": fact.occurred_at,
            "recorded_at": now,
            "payload": canonical_json(fact.payload),
            "prev_hash": prev,
        }
        row["row_hash"] = prev = row_hash(**row)
        rows.append(row)
    return rows


def _record(entry: _ChainRow) -> AuditRecord:
    return AuditRecord(
        seq=entry.seq,
        event_id=entry.event_id,
        event_type=entry.event_type,
        case_id=entry.case_id,
        key_id=entry.key_id,
        actor=entry.actor,
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        payload=json.loads(entry.payload),
        prev_hash=entry.prev_hash,
        row_hash=entry.row_hash,
    )


def audit_rows(
    connection: Connection,
    *,
    case_id: str | None = None,
    key_id: str | None = None,
    after_seq: int = 0,
    limit: int = 1000,
) -> list[AuditRecord]:
    """Rows of one case and/or one key, in chain order (page with `after_seq`)."""
    query = select(*AuditEntry.__table__.c).where(AuditEntry.seq > after_seq)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    if key_id is not None:
        query = query.where(AuditEntry.key_id == key_id)
    entries = connection.execute(query.order_by(AuditEntry.seq).limit(limit))
    return [_record(cast(_ChainRow, entry)) for entry in entries]


def _problem(entry: _ChainRow, expected_seq: int, expected_prev: str) -> str | None:
    if entry.seq != expected_seq:
        return "sequence_gap"
    if entry.prev_hash != expected_prev:
        return "broken_link"
    if entry.row_hash != _hash_of(entry):
        return "hash_mismatch"
    return None


def verify(connection: Connection, batch: int = VERIFY_BATCH) -> AuditVerification:
    """Recompute the chain from the first row, `batch` rows at a time; stop at the first bad row."""
    checked, expected_prev = 0, GENESIS
    while True:
        query = (
            select(*AuditEntry.__table__.c)
            .where(AuditEntry.seq > checked)
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        entries = connection.execute(query).all()
        for entry in entries:
            problem = _problem(cast(_ChainRow, entry), checked + 1, expected_prev)
            if problem:
                return AuditVerification(
                    ok=False, rows_checked=checked + 1, first_bad_row=entry.seq, problem=problem
                )
            checked, expected_prev = entry.seq, entry.row_hash
        if len(entries) < batch:
            return AuditVerification(ok=True, rows_checked=checked)


GENESIS = "0" * 64  # the "previous hash" of the first row


class ForbiddenPayload(ValueError):
    """A payload that would put contacts or secrets into the audit log."""


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text; refuses NaN and infinities."""
    return json.dumps(
        to_jsonable_python(value),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise ForbiddenPayload when any key, at any depth, names a contact or a secret.

    Contacts and secrets never enter the audit log (`domain.privacy`); such a key is a bug
    upstream, or evidence that slipped past intake.
    """
    path = private_key_path(payload, "payload")
    if path is not None:
        raise ForbiddenPayload(f"audit payload must not carry a contact or a secret: {path}")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(
    *,
    seq: int,
    event_id: str,
    event_type: str,
    case_id: str | None,
    key_id: str,
    actor: str,
    occurred_at: datetime,
    recorded_at: datetime,
    payload: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical JSON of the row's fields, `prev_hash` included."""
    body = canonical_json(
        {
            "seq": seq,
            "event_id": event_id,
            "event_type": event_type,
            "case_id": case_id,
            "key_id": key_id,
            "actor": actor,
            "occurred_at": _instant(occurred_at),
            "recorded_at": _instant(recorded_at),
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()
