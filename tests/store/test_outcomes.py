"""Outcomes: one per alert of an ended case, written with its ending, paged in order."""

import asyncio

from domain import case_reactions
from domain.activity_io import AuditFact
from domain.officer import OfficerAction, OfficerInput
from store.audit import append_facts
from store.outcomes import delivery_counts, mark_delivered, outcomes_since, undelivered
from store.port import Store
from tests.domain.case_builders import POLICY, T0, alert, new_case
from tests.store.ended_cases import LATER, cleared_case, dismissed_case


async def _append(store: Store, facts: list[AuditFact]) -> int:
    return await store.write(lambda c: append_facts(c, facts, LATER))


async def test_an_ending_gives_one_outcome_per_alert_with_the_officers_reason(store: Store) -> None:
    arrival, ending = dismissed_case("key-1.run-1", alerts=2)
    await _append(store, arrival)
    assert await store.read(lambda c: outcomes_since(c, 0, 100)) == []

    await _append(store, ending)

    page = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert [(o.seq, o.alert_id, o.outcome.value) for o in page] == [
        (1, "a-0", "dismissed"),
        (2, "a-1", "dismissed"),
    ]
    assert {(o.reason, o.decided_by, o.exchange) for o in page} == {
        ("registered market maker", "kim", "bithumb")
    }
    assert page[0].outcome_id == "key-1.run-1:a-0" and page[0].decided_at == LATER


async def test_a_retried_ending_write_records_no_second_outcome(store: Store) -> None:
    arrival, ending = dismissed_case("key-1.run-1", alerts=1)
    await _append(store, arrival + ending)

    await _append(store, ending)
    await _append(store, arrival + ending + ending)

    assert [o.seq for o in await store.read(lambda c: outcomes_since(c, 0, 100))] == [1]


async def test_the_alerts_and_the_ending_in_one_write_give_their_outcomes(store: Store) -> None:
    await _append(store, cleared_case("key-1.run-2"))

    [cleared] = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert (cleared.alert_id, cleared.outcome.value) == ("a-9", "cleared")
    assert cleared.decided_by == "keycase"
    assert cleared.reason == "quiet monitoring window ended"


async def test_pages_follow_the_cursor_and_the_exchange_scope(store: Store) -> None:
    for n in range(3):
        arrival, ending = dismissed_case(f"key-1.run-{n}", alerts=2)
        await _append(store, arrival + ending)

    first = await store.read(lambda c: outcomes_since(c, 0, 4))
    rest = await store.read(lambda c: outcomes_since(c, first[-1].seq, 4))
    upbit = await store.read(lambda c: outcomes_since(c, 0, 100, {"upbit"}))

    assert [o.seq for o in first + rest] == [1, 2, 3, 4, 5, 6]
    assert upbit == []


async def test_endings_written_at_once_number_their_outcomes_without_gaps(store: Store) -> None:
    endings = [dismissed_case(f"key-1.run-{n}", alerts=3) for n in range(8)]
    for arrival, _ in endings:
        await _append(store, arrival)

    await asyncio.gather(*(_append(store, ending) for _, ending in endings))

    page = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert [o.seq for o in page] == list(range(1, 25))
    assert len({o.outcome_id for o in page}) == 24


async def test_delivery_marks_each_outcome_once_and_leaves_the_rest_due(store: Store) -> None:
    arrival, ending = dismissed_case("key-1.run-1", alerts=3)
    await _append(store, arrival + ending)

    assert await store.write(lambda c: mark_delivered(c, 1, LATER))
    assert not await store.write(lambda c: mark_delivered(c, 1, LATER))

    assert [o.seq for o in await store.read(lambda c: undelivered(c, 10))] == [2, 3]
    assert await store.read(delivery_counts) == (3, 1)


def test_the_ending_reason_rides_on_the_closed_fact() -> None:
    _, ending = dismissed_case("key-1.run-1", alerts=1)
    [closed] = [f for f in ending if f.event_type == "case.closed"]
    assert closed.payload["officer_reason"] == "registered market maker"


async def test_an_alert_after_an_expiry_stays_on_the_case_and_takes_its_outcome(
    store: Store,
) -> None:
    state = new_case()
    state, arrival = case_reactions.on_alerts(state, [alert(1)], 0, POLICY, T0)
    command = OfficerInput(actor="kim", reason="confirmed lending")
    state, ending = case_reactions.on_action(
        state, OfficerAction.EXPIRE_NOW, command, POLICY, LATER
    )
    await _append(store, [*arrival.facts, *ending.facts])

    state, late = case_reactions.on_alerts(state, [alert(2)], 0, POLICY, LATER)
    await _append(store, list(late.facts))
    await _append(store, list(late.facts))  # a retried write

    page = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert [(o.alert_id, o.outcome.value, o.reason) for o in page] == [
        ("a-1", "confirmed", "confirmed lending"),
        ("a-2", "confirmed", "confirmed lending"),
    ]
