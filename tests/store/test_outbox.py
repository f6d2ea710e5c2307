"""The outbox keeps one row per (case, notice, channel) and only ever moves a row forward."""

from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection

from domain.notices import Channel, DeliveryStatus
from store.outbox import NotificationOutbox, OutboxEntry, OutboxSends, outbox_id_for
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


async def test_a_send_is_counted_recorded_and_found_by_its_message_id(store: Store) -> None:
    entry = await _claim(store)

    def send(connection: Connection) -> OutboxEntry:
        outbox = OutboxSends(connection)
        outbox.begin_attempt(entry.outbox_id, "+82***5678", NOW)
        outbox.note_error(entry.outbox_id, "timed out", in_doubt=True, now=NOW)
        outbox.begin_attempt(entry.outbox_id, "+82***5678", NOW)
        return outbox.mark_sent(entry.outbox_id, "twilio", "SM5", NOW)

    sent = await store.write(send)
    found = await store.read(
        lambda c: NotificationOutbox(c).by_provider_message_id("twilio", "SM5")
    )
    rows = await store.read(lambda c: NotificationOutbox(c).for_case("K-1.run-1"))

    assert (sent.status, sent.attempts, sent.in_doubt, sent.error) == (
        DeliveryStatus.SENT,
        2,
        False,
        None,
    )
    assert found == sent and rows == [sent]
    assert (
        await store.read(lambda c: NotificationOutbox(c).by_provider_message_id("x", "SM5")) is None
    )


async def test_a_failed_channel_stays_failed(store: Store) -> None:
    entry = await _claim(store)

    failed = await store.write(
        lambda c: OutboxSends(c).mark_failed(entry.outbox_id, "number unreachable", NOW)
    )
    again = await store.write(
        lambda c: OutboxSends(c).mark_sent(entry.outbox_id, "twilio", "SM6", NOW)
    )

    assert (failed.status, failed.error) == (DeliveryStatus.FAILED, "number unreachable")
    assert again.status is DeliveryStatus.FAILED  # a late answer does not revive it


async def test_a_channel_without_a_recipient_is_claimed_failed(store: Store) -> None:
    entry = await store.write(
        lambda c: OutboxSends(c).claim(
            case_id="K-2.run-1",
            notice_id="warning",
            channel=Channel.EMAIL,
            notice="warning",
            subject="s",
            body="b",
            recipient_hint=None,
            now=NOW,
            failed_because="no e-mail address on file",
        )
    )
    assert (entry.status, entry.error) == (DeliveryStatus.FAILED, "no e-mail address on file")
