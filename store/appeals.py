"""Appeals of expiries and the replacement keys they allowed.

    await store.write(lambda c: file_appeal(c, filing, now))        # AppealWorkflow's first step
    await store.write(lambda c: record_decision(c, appeal, now))    # after the officer decided
    record = await store.read(lambda c: get_appeal(c, case_id))     # AppealRecord | None
    key = await store.write(lambda c: register_replacement(c, replaces=..., key_id=..., ...))

Each writes its audit fact in the same transaction; repeating one changes nothing. The rules
(when an appeal or a replacement is refused) are `domain.appeals`'.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Connection, Row, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from domain.appeals import (
    AppealInput,
    AppealRecord,
    AppealState,
    AppealStatus,
    replacement_refusal,
)
from domain.audit_events import appeal_decided, appeal_filed, key_replaced
from store.audit import append_facts
from store.models import Base, UTCDateTime, insert_into
from store.registry import KeyRecord, get_key, register_key

STATUSES = tuple(status.value for status in AppealStatus)


class ReplacementRefused(Exception):
    """A replacement key the appeal does not allow; the message says why."""


class Appeal(Base):
    """One appeal of one expired case (at most one per case)."""

    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
    )

    case_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(100), index=True)
    account_id: Mapped[str] = mapped_column(String(100))
    exchange: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(Text)  # the owner's words, never in the audit chain
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    replacement_allowed_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replacement_key_id: Mapped[str | None] = mapped_column(String(100), unique=True)


_COLUMNS = tuple(Appeal.__table__.c)


def file_appeal(connection: Connection, filing: AppealInput, now: datetime) -> bool:
    """Record the appeal under review; False when it was recorded already."""
    values = {
        "case_id": filing.case_id,
        "key_id": filing.key_id,
        "account_id": filing.account_id,
        "exchange": filing.exchange,
        "status": AppealStatus.REVIEW.value,
        "statement": filing.statement,
        "filed_by": filing.filed_by,
        "filed_at": filing.filed_at,
        "expired_at": filing.expired_at,
    }
    statement = insert_into(connection.dialect.name, Appeal).values(**values)
    inserted = connection.execute(
        statement.on_conflict_do_nothing(index_elements=["case_id"]).returning(Appeal.case_id)
    ).first()
    append_facts(connection, [appeal_filed(filing)], now)
    return inserted is not None


def record_decision(connection: Connection, appeal: AppealState, now: datetime) -> bool:
    """Record the officer's decision on an appeal under review; False when it was already."""
    changed = connection.execute(
        update(Appeal)
        .where(Appeal.case_id == appeal.case_id, Appeal.status == AppealStatus.REVIEW.value)
        .values(
            status=appeal.status.value,
            decided_by=appeal.decided_by,
            decided_at=appeal.decided_at,
            decision_reason=appeal.decision_reason,
            replacement_allowed_from=appeal.replacement_allowed_from,
        )
        .returning(Appeal.case_id)
    ).first()
    append_facts(connection, [appeal_decided(appeal)], now)
    return changed is not None


def get_appeal(connection: Connection, case_id: str) -> AppealRecord | None:
    """The appeal of the case, or None."""
    row = connection.execute(select(*_COLUMNS).where(Appeal.case_id == case_id)).first()
    return _record(row) if row else None


def appeal_of_key(connection: Connection, key_id: str) -> AppealRecord | None:
    """The latest appeal of an expiry of this key, or None."""
    query = select(*_COLUMNS).where(Appeal.key_id == key_id).order_by(Appeal.filed_at.desc())
    row = connection.execute(query.limit(1)).first()
    return _record(row) if row else None


def register_replacement(
    connection: Connection,
    *,
    replaces: str,
    key_id: str,
    account_id: str,
    exchange: str,
    now: datetime,
    **registration: Any,
) -> KeyRecord:
    """Register `key_id` as the replacement of expired key `replaces`, as its upheld appeal
    allows; raises ReplacementRefused saying why not. Repeating it changes nothing."""
    appeal = appeal_of_key(connection, replaces)
    refusal = replacement_refusal(appeal, replaces, key_id, account_id, exchange, now)
    linked = appeal is not None and appeal.replacement_key_id == key_id
    if refusal is None and not linked and get_key(connection, key_id) is not None:
        refusal = f"key {key_id} is registered already: a replacement must be a new key"
    if refusal is not None or appeal is None:
        raise ReplacementRefused(refusal or "no appeal")
    record = register_key(
        connection,
        key_id=key_id,
        account_id=account_id,
        exchange=exchange,
        now=now,
        **registration,
    )
    connection.execute(
        update(Appeal).where(Appeal.case_id == appeal.case_id).values(replacement_key_id=key_id)
    )
    actor = str(registration.get("actor", "keycase"))
    append_facts(connection, [key_replaced(appeal.case_id, replaces, key_id, actor, now)], now)
    return record


def _record(row: Row[Any]) -> AppealRecord:
    fields = row._asdict()
    fields["status"] = AppealStatus(fields["status"])
    return AppealRecord(**fields)
