"""Notification outbox: one row per (case, notice, channel), written before a provider is called.

A retried send reads its row first, so a notice goes out at most once per channel unless the
row says the previous attempt's outcome is unknown (`in_doubt`); provider webhooks advance the
row and are deduplicated in `webhook_event_seen`.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, Select, String, Text, UniqueConstraint, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from domain.notices import Channel, DeliveryStatus
from store.base import Base, UTCDateTime, insert_into

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
    """The outbox as the webhooks and officers see it; the caller owns the transaction.

    The send path's writes are `store.outbox_sends.OutboxSends`.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, outbox_id: str) -> OutboxEntry | None:
        """The row with this id, read fresh from the database."""
        row = (await self._session.execute(find_entry(outbox_id))).first()
        return entry_of(row) if row else None

    async def for_case(self, case_id: str) -> list[OutboxEntry]:
        """Every notice row of a case, oldest first."""
        rows = await self._session.scalars(
            select(OutboxRow).where(OutboxRow.case_id == case_id).order_by(OutboxRow.created_at)
        )
        return [_entry(row) for row in rows]

    async def by_provider_message_id(self, provider: str, message_id: str) -> OutboxEntry | None:
        """The row a provider's message id was recorded on, if any."""
        row = await self._session.scalar(
            select(OutboxRow).where(
                OutboxRow.provider == provider, OutboxRow.provider_message_id == message_id
            )
        )
        return _entry(row) if row else None

    async def apply_event(
        self,
        outbox_id: str,
        status: DeliveryStatus,
        provider: str,
        message_id: str | None,
        detail: str | None,
        now: datetime,
    ) -> OutboxEntry | None:
        """Advance a row on a provider event; returns the row only if its status moved."""
        row = await self._row(outbox_id)
        if row is None:
            return None
        row.provider = row.provider or provider
        row.provider_message_id = row.provider_message_id or message_id
        row.updated_at = now
        if _RANK[status] <= _RANK[DeliveryStatus(row.status)]:
            return None
        row.status = status.value
        row.in_doubt = False  # the provider has the message: a retry must not send it again
        if status == DeliveryStatus.FAILED and detail:
            row.error = detail[:500]
        return _entry(row)

    async def first_sighting(
        self, provider: str, event_id: str, outbox_id: str | None, now: datetime
    ) -> bool:
        """Remember a provider event id; False if it was seen before (a duplicate)."""
        values = {
            "provider": provider,
            "event_id": event_id[:200],
            "outbox_id": outbox_id,
            "received_at": now,
        }
        dialect = self._session.get_bind().dialect.name
        statement = insert_into(dialect, WebhookEventSeenRow).values(**values)
        statement = statement.on_conflict_do_nothing()
        result = await self._session.execute(statement.returning(WebhookEventSeenRow.event_id))
        return result.scalar_one_or_none() is not None

    async def _row(self, outbox_id: str) -> OutboxRow | None:
        return await self._session.scalar(
            select(OutboxRow)
            .where(OutboxRow.outbox_id == outbox_id)
            .execution_options(populate_existing=True)
        )


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        outbox_id=row.outbox_id,
        case_id=row.case_id,
        notice_id=row.notice_id,
        channel=Channel(row.channel),
        status=DeliveryStatus(row.status),
        provider=row.provider,
        provider_message_id=row.provider_message_id,
        error=row.error,
        attempts=row.attempts,
        in_doubt=row.in_doubt,
        last_attempt_at=row.last_attempt_at,
        subject=row.subject,
        body=row.body,
    )


def entry_of(row: Row[Any]) -> OutboxEntry:
    """An entry from a row of `ENTRY_COLUMNS`."""
    fields = row._asdict()
    fields.update(channel=Channel(row.channel), status=DeliveryStatus(row.status))
    return OutboxEntry(**fields)
