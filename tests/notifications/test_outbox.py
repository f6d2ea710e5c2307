"""The outbox keeps one row per (case, notice, channel) and only ever moves a row forward."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.notices import Channel, DeliveryStatus
from store.core_work import CoreWork
from store.outbox import NotificationOutbox, OutboxEntry, outbox_id_for
from store.outbox_sends import OutboxSends

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


async def _claim(sessions: async_sessionmaker[AsyncSession], body: str = "first") -> OutboxEntry:
    return await CoreWork(sessions).write(
        lambda connection: OutboxSends(connection).claim(
            case_id="K-1.run-1",
            notice_id="warning",
            channel=Channel.SMS,
            notice="warning",
            subject=None,
            body=body,
            recipient_hint=None,
            now=NOW,
        )
    )


async def test_claiming_twice_keeps_the_first_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await _claim(sessions, "first")
    again = await _claim(sessions, "second")
    assert again == first
    assert first.outbox_id == outbox_id_for("K-1.run-1", "warning", Channel.SMS)
    assert (first.status, first.body, first.attempts) == (DeliveryStatus.PENDING, "first", 0)


async def test_events_only_move_a_row_forward(sessions: async_sessionmaker[AsyncSession]) -> None:
    entry = await _claim(sessions)
    steps = [
        (DeliveryStatus.DELIVERED, True),
        (DeliveryStatus.SENT, False),  # late "sent" after "delivered"
        (DeliveryStatus.FAILED, False),  # the first final word stands
        (DeliveryStatus.DELIVERED, False),  # duplicate
    ]
    for status, moves in steps:
        async with sessions() as session:
            moved = await NotificationOutbox(session).apply_event(
                entry.outbox_id, status, "twilio", "SM1", None, NOW
            )
            await session.commit()
        assert (moved is not None) == moves, status
    async with sessions() as session:
        stored = await NotificationOutbox(session).get(entry.outbox_id)
    assert stored is not None
    assert (stored.status, stored.provider_message_id) == (DeliveryStatus.DELIVERED, "SM1")


async def test_an_event_clears_doubt_about_an_earlier_attempt(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    entry = await _claim(sessions)
    await CoreWork(sessions).write(
        lambda connection: OutboxSends(connection).begin_attempt(entry.outbox_id, "+82***5678", NOW)
    )
    async with sessions() as session:
        outbox = NotificationOutbox(session)
        await outbox.apply_event(entry.outbox_id, DeliveryStatus.SENT, "twilio", "SM9", None, NOW)
        await session.commit()
        stored = await outbox.get(entry.outbox_id)
    assert stored is not None
    assert (stored.status, stored.in_doubt, stored.attempts) == (DeliveryStatus.SENT, False, 1)


async def test_an_event_id_is_seen_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        outbox = NotificationOutbox(session)
        assert await outbox.first_sighting("sendgrid", "evt-1", None, NOW)
        assert not await outbox.first_sighting("sendgrid", "evt-1", None, NOW)
        assert await outbox.first_sighting("twilio", "evt-1", None, NOW)
        await session.commit()
