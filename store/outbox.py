"""Notification outbox: one row per (case, notice, channel), written before a provider is called.

A retried send reads its row first, so a notice goes out at most once per channel unless the
row says the previous attempt's outcome is unknown (`in_doubt`); provider webhooks advance the
row and are deduplicated in `webhook_event_seen`.

The send path's writes (`OutboxSends`) are each one statement (INSERT … ON CONFLICT DO
NOTHING … RETURNING or UPDATE … RETURNING) on a `Connection` inside the caller's write
transaction (`store.port.Store.write`):

    entry = await store.write(lambda c: OutboxSends(c).claim(case_id=..., notice_id=..., ...))
    entry = await store.write(lambda c: OutboxSends(c).begin_attempt(entry.outbox_id, hint, now))
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    case,
    func,
    select,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, mapped_column

from domain.notices import Channel, DeliveryStatus
from store.models import Base, UTCDateTime, insert_into

# Delivered and failed are both final: the first final word wins, later events only add detail.
_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.FAILED: 2,
}


class OutboxRow(Base):
    """One notice on one channel, and what became of it."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("case_id", "notice_id", "channel"),)

    outbox_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200), index=True)
    notice_id: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    notice: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recipient_hint: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEventSeenRow(Base):
    """A provider event id already applied (providers deliver events more than once)."""

    __tablename__ = "webhook_event_seen"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    outbox_id: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class OutboxEntry:
    """A read-only copy of an outbox row."""

    outbox_id: str
    case_id: str
    notice_id: str
    channel: Channel
    status: DeliveryStatus
    provider: str | None
    provider_message_id: str | None
    error: str | None
    attempts: int
    in_doubt: bool
    last_attempt_at: datetime | None
    subject: str | None
    body: str


# OutboxEntry's fields in order, read straight from the table (no ORM objects on the hot path).
ENTRY_COLUMNS = tuple(OutboxRow.__table__.c[name] for name in OutboxEntry.__dataclass_fields__)


def outbox_id_for(case_id: str, notice_id: str, channel: Channel) -> str:
    """The stable id of a (case, notice, channel) row; it travels in provider requests."""
    digest = hashlib.sha256(f"{case_id}\n{notice_id}\n{channel.value}".encode()).hexdigest()
    return f"ob_{digest[:32]}"


def find_entry(outbox_id: str) -> Select[Any]:
    """The SELECT of one row's entry columns (read with `entry_of`)."""
    return select(*ENTRY_COLUMNS).where(OutboxRow.outbox_id == outbox_id)


class NotificationOutbox:
    """The outbox as the webhooks and officers see it, on a connection; the caller owns the
    transaction. The send path's writes are `OutboxSends` below."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, outbox_id: str) -> OutboxEntry | None:
        """The row with this id, as this transaction sees it."""
        row = self._connection.execute(find_entry(outbox_id)).first()
        return entry_of(row) if row else None

    def for_case(self, case_id: str) -> list[OutboxEntry]:
        """Every notice row of a case, oldest first."""
        query = select(*ENTRY_COLUMNS).where(OutboxRow.case_id == case_id)
        return [
            entry_of(row) for row in self._connection.execute(query.order_by(OutboxRow.created_at))
        ]

    def by_provider_message_id(self, provider: str, message_id: str) -> OutboxEntry | None:
        """The row a provider's message id was recorded on, if any."""
        query = select(*ENTRY_COLUMNS).where(
            OutboxRow.provider == provider, OutboxRow.provider_message_id == message_id
        )
        row = self._connection.execute(query).first()
        return entry_of(row) if row else None

    def apply_event(
        self,
        outbox_id: str,
        status: DeliveryStatus,
        provider: str,
        message_id: str | None,
        detail: str | None,
        now: datetime,
    ) -> OutboxEntry | None:
        """Advance a row on a provider event; returns the row only if its status moved."""
        row = self._connection.execute(find_entry(outbox_id).with_for_update()).first()
        if row is None:
            return None
        entry = entry_of(row)
        values: dict[str, Any] = {
            "provider": entry.provider or provider,
            "provider_message_id": entry.provider_message_id or message_id,
            "updated_at": now,
        }
        moved = moves(status, entry.status)
        if moved:
            # The provider has the message: a retry must not send it again.
            values.update(status=status.value, in_doubt=False)
            if status == DeliveryStatus.FAILED and detail:
                values["error"] = detail[:500]
        updated = self._update(outbox_id, **values)
        return updated if moved else None

    def first_sighting(
        self, provider: str, event_id: str, outbox_id: str | None, now: datetime
    ) -> bool:
        """Remember a provider event id; False if it was seen before (a duplicate)."""
        values = {
            "provider": provider,
            "event_id": event_id[:200],
            "outbox_id": outbox_id,
            "received_at": now,
        }
        statement = insert_into(self._connection.dialect.name, WebhookEventSeenRow).values(**values)
        statement = statement.on_conflict_do_nothing()
        result = self._connection.execute(statement.returning(WebhookEventSeenRow.event_id))
        return result.scalar_one_or_none() is not None

    def seen(self, provider: str, event_id: str) -> bool:
        """Whether a provider event id was applied before."""
        query = select(WebhookEventSeenRow.event_id).where(
            WebhookEventSeenRow.provider == provider,
            WebhookEventSeenRow.event_id == event_id[:200],
        )
        return self._connection.execute(query).first() is not None

    def _update(self, outbox_id: str, **values: Any) -> OutboxEntry:
        """One UPDATE … RETURNING on a row that must exist (the hot path of every send)."""
        statement = (
            update(OutboxRow)
            .where(OutboxRow.outbox_id == outbox_id)
            .values(**values)
            .returning(*ENTRY_COLUMNS)
        )
        row = self._connection.execute(statement).first()
        if row is None:
            raise LookupError(f"no outbox row {outbox_id}")
        return entry_of(row)


def moves(status: DeliveryStatus, current: DeliveryStatus) -> bool:
    """Whether a provider's `status` advances a row now at `current` (only forward)."""
    return _RANK[status] > _RANK[current]


def entry_of(row: Row[Any]) -> OutboxEntry:
    """An entry from a row of `ENTRY_COLUMNS`."""
    fields = row._asdict()
    fields.update(channel=Channel(row.channel), status=DeliveryStatus(row.status))
    return OutboxEntry(**fields)


class OutboxSends(NotificationOutbox):
    """Writes of `send_notice` to the outbox; the caller owns the transaction."""

    def claim(
        self,
        *,
        case_id: str,
        notice_id: str,
        channel: Channel,
        notice: str,
        subject: str | None,
        body: str,
        recipient_hint: str | None,
        now: datetime,
        failed_because: str | None = None,
    ) -> OutboxEntry:
        """The row for this notice and channel, created pending (or failed) if it is new."""
        outbox_id = outbox_id_for(case_id, notice_id, channel)
        status = DeliveryStatus.FAILED if failed_because else DeliveryStatus.PENDING
        values = {
            "outbox_id": outbox_id,
            "case_id": case_id,
            "notice_id": notice_id,
            "channel": channel.value,
            "notice": notice,
            "status": status.value,
            "error": failed_because,
            "attempts": 0,
            "in_doubt": False,
            "recipient_hint": recipient_hint,
            "subject": subject,
            "body": body,
            "created_at": now,
            "updated_at": now,
        }
        insert = insert_into(self._connection.dialect.name, OutboxRow).values(**values)
        statement = insert.on_conflict_do_nothing().returning(*ENTRY_COLUMNS)
        row = self._connection.execute(statement).first()
        entry = entry_of(row) if row else self.get(outbox_id)
        assert entry is not None  # inserted above or by an earlier attempt
        return entry

    def begin_attempt(self, outbox_id: str, recipient_hint: str, now: datetime) -> OutboxEntry:
        """Count an attempt and mark its outcome unknown until the provider answers."""
        return self._update(
            outbox_id,
            attempts=OutboxRow.attempts + 1,
            in_doubt=True,
            last_attempt_at=now,
            recipient_hint=recipient_hint,
            updated_at=now,
        )

    def mark_sent(
        self, outbox_id: str, provider: str, message_id: str | None, now: datetime
    ) -> OutboxEntry:
        """The provider accepted the message (a webhook may already have said more)."""
        pending = OutboxRow.status == DeliveryStatus.PENDING.value
        return self._update(
            outbox_id,
            status=case((pending, DeliveryStatus.SENT.value), else_=OutboxRow.status),
            provider=provider,
            provider_message_id=func.coalesce(OutboxRow.provider_message_id, message_id),
            in_doubt=False,
            error=None,
            updated_at=now,
        )

    def note_error(self, outbox_id: str, error: str, in_doubt: bool, now: datetime) -> None:
        """A transient failure: the row stays pending; `in_doubt` if the provider may have sent."""
        self._update(outbox_id, error=error[:500], in_doubt=in_doubt, updated_at=now)

    def mark_failed(self, outbox_id: str, error: str, now: datetime) -> OutboxEntry:
        """The notice cannot go out on this channel; it is never tried again."""
        not_final = OutboxRow.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENT.value])
        return self._update(
            outbox_id,
            status=case((not_final, DeliveryStatus.FAILED.value), else_=OutboxRow.status),
            error=case((not_final, error[:500]), else_=OutboxRow.error),
            in_doubt=False,
            updated_at=now,
        )
