"""The send path's outbox writes: claim a notice's row, count attempts, record the answer.

Each is one statement (INSERT … ON CONFLICT DO NOTHING … RETURNING or UPDATE … RETURNING)
on a `Connection` inside the caller's write transaction (`store.port.Store.write`).

    entry = await store.write(lambda c: OutboxSends(c).claim(case_id=..., notice_id=..., ...))
    entry = await store.write(lambda c: OutboxSends(c).begin_attempt(entry.outbox_id, hint, now))
"""

from datetime import datetime

from sqlalchemy import case, func

from domain.notices import Channel, DeliveryStatus
from store.base import insert_into
from store.outbox import (
    ENTRY_COLUMNS,
    NotificationOutbox,
    OutboxEntry,
    OutboxRow,
    entry_of,
    outbox_id_for,
)


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
