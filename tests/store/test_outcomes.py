"""Outcomes: one per alert of an ended case, written with its ending, paged in order."""

import asyncio
from datetime import timedelta

from domain import case_reactions
from domain.activity_io import AuditFact
from domain.officer import OfficerAction, OfficerInput
from store.audit import append_facts
from store.outcomes import delivery_counts, mark_delivered, outcomes_since, undelivered
from store.port import Store
from tests.domain.case_builders import POLICY, T0, alert, new_case

LATER = T0 + timedelta(days=10)


def _dismissed_case(case_id: str, alerts: int) -> tuple[list[AuditFact], list[AuditFact]]:
    """The facts of a case that received `alerts` alerts, then of an officer dismissing it."""
    state = new_case().model_copy(update={"case_id": case_id})
    prefix = "" if case_id.endswith("run-1") else f"{case_id}-"  # alert ids are global
    received = [alert(n).model_copy(update={"alert_id": f"{prefix}a-{n}"}) for n in range(alerts)]
    state, arrival = case_reactions.on_alerts(state, received, 0, POLICY, T0)
    command = OfficerInput(actor="kim", reason="registered market maker")
    state, ending = case_reactions.on_action(state, OfficerAction.DISMISS, command, POLICY, LATER)
    return list(arrival.facts), list(ending.facts)


def _cleared_case(case_id: str) -> list[AuditFact]:
    state = new_case().model_copy(update={"case_id": case_id})
    state, arrival = case_reactions.on_alerts(state, [alert(9)], 0, POLICY, T0)
    assert state.monitoring_until is not None
    state, ending = case_reactions.on_time(state, state.monitoring_until)
    assert state.stage.value == "CLEARED"
    return [*arrival.facts, *ending.facts]


async def _append(store: Store, facts: list[AuditFact]) -> int:
    return await store.write(lambda c: append_facts(c, facts, LATER))


async def test_an_ending_gives_one_outcome_per_alert_with_the_officers_reason(store: Store) -> None:
    arrival, ending = _dismissed_case("key-1.run-1", alerts=2)
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
    arrival, ending = _dismissed_case("key-1.run-1", alerts=1)
    await _append(store, arrival + ending)

    await _append(store, ending)
    await _append(store, arrival + ending + ending)

    assert [o.seq for o in await store.read(lambda c: outcomes_since(c, 0, 100))] == [1]


async def test_the_alerts_and_the_ending_in_one_write_give_their_outcomes(store: Store) -> None:
    await _append(store, _cleared_case("key-1.run-2"))

    [cleared] = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert (cleared.alert_id, cleared.outcome.value) == ("a-9", "cleared")
    assert cleared.decided_by == "keycase"
    assert cleared.reason == "quiet monitoring window ended"


async def test_pages_follow_the_cursor_and_the_exchange_scope(store: Store) -> None:
    for n in range(3):
        arrival, ending = _dismissed_case(f"key-1.run-{n}", alerts=2)
        await _append(store, arrival + ending)

    first = await store.read(lambda c: outcomes_since(c, 0, 4))
    rest = await store.read(lambda c: outcomes_since(c, first[-1].seq, 4))
    upbit = await store.read(lambda c: outcomes_since(c, 0, 100, {"upbit"}))

    assert [o.seq for o in first + rest] == [1, 2, 3, 4, 5, 6]
    assert upbit == []


async def test_endings_written_at_once_number_their_outcomes_without_gaps(store: Store) -> None:
    endings = [_dismissed_case(f"key-1.run-{n}", alerts=3) for n in range(8)]
    for arrival, _ in endings:
        await _append(store, arrival)

    await asyncio.gather(*(_append(store, ending) for _, ending in endings))

    page = await store.read(lambda c: outcomes_since(c, 0, 100))
    assert [o.seq for o in page] == list(range(1, 25))
    assert len({o.outcome_id for o in page}) == 24


async def test_delivery_marks_each_outcome_once_and_leaves_the_rest_due(store: Store) -> None:
    arrival, ending = _dismissed_case("key-1.run-1", alerts=3)
    await _append(store, arrival + ending)

    assert await store.write(lambda c: mark_delivered(c, 1, LATER))
    assert not await store.write(lambda c: mark_delivered(c, 1, LATER))

    assert [o.seq for o in await store.read(lambda c: undelivered(c, 10))] == [2, 3]
    assert await store.read(delivery_counts) == (3, 1)


def test_the_ending_reason_rides_on_the_closed_fact() -> None:
    _, ending = _dismissed_case("key-1.run-1", alerts=1)
    [closed] = [f for f in ending if f.event_type == "case.closed"]
    assert closed.payload["officer_reason"] == "registered market maker"
