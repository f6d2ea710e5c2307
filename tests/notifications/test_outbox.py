"""The outbox keeps one row per (case, notice, channel) and only ever moves a row forward."""

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection

from domain.notices import Channel, DeliveryStatus
from store.outbox import NotificationOutbox, OutboxEntry, outbox_id_for
from store.outbox_sends import OutboxSends
from store.port import Store

NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


async def _claim(store: Store, body: str = "first") -> OutboxEntry:
    return await store.write(
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
    store: Store,
) -> None:
    first = await _claim(store, "first")
    again = await _claim(store, "second")
    assert again == first
    assert first.outbox_id == outbox_id_for("K-1.run-1", "warning", Channel.SMS)
    assert (first.status, first.body, first.attempts) == (DeliveryStatus.PENDING, "first", 0)


def _event(connection: Connection, outbox_id: str, status: DeliveryStatus) -> OutboxEntry | None:
    return NotificationOutbox(connection).apply_event(outbox_id, status, "twilio", "SM1", None, NOW)


async def test_events_only_move_a_row_forward(store: Store) -> None:
    entry = await _claim(store)
    steps = [
        (DeliveryStatus.DELIVERED, True),
        (DeliveryStatus.SENT, False),  # late "sent" after "delivered"
        (DeliveryStatus.FAILED, False),  # the first final word stands
        (DeliveryStatus.DELIVERED, False),  # duplicate
    ]
    for status, moves in steps:
        moved = await store.write(partial(_event, outbox_id=entry.outbox_id, status=status))
        assert (moved is not None) == moves, status
    stored = await store.read(lambda c: NotificationOutbox(c).get(entry.outbox_id))
    assert stored is not None
    assert (stored.status, stored.provider_message_id) == (DeliveryStatus.DELIVERED, "SM1")


async def test_an_event_clears_doubt_about_an_earlier_attempt(
    store: Store,
) -> None:
    entry = await _claim(store)
    await store.write(
        lambda connection: OutboxSends(connection).begin_attempt(entry.outbox_id, "+82***5678", NOW)
    )
    await store.write(
        lambda c: NotificationOutbox(c).apply_event(
            entry.outbox_id, DeliveryStatus.SENT, "twilio", "SM9", None, NOW
        )
    )
    stored = await store.read(lambda c: NotificationOutbox(c).get(entry.outbox_id))
    assert stored is not None
    assert (stored.status, stored.in_doubt, stored.attempts) == (DeliveryStatus.SENT, False, 1)


async def test_an_event_id_is_seen_once(store: Store) -> None:
    def sightings(connection: Connection) -> list[bool]:
        outbox = NotificationOutbox(connection)
        return [
            outbox.first_sighting("sendgrid", "evt-1", None, NOW),
            outbox.first_sighting("sendgrid", "evt-1", None, NOW),
            outbox.first_sighting("twilio", "evt-1", None, NOW),
        ]

    assert await store.write(sightings) == [True, False, True]
    assert await store.read(lambda c: NotificationOutbox(c).seen("sendgrid", "evt-1"))
