"""`push_outcomes`: each outcome posted signed, in order, marked once; a refusal is retried."""

from collections.abc import Iterator

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.outcome_push import OutcomePushActivities
from domain.activity_io import AuditFact
from domain.outcomes import PushOutcomesInput
from store.audit import append_facts
from store.outcomes import outcomes_since, undelivered
from store.port import Store
from tests.fakes.outcome_receiver import OutcomeReceiver
from tests.store.databases import database_url, store
from tests.store.ended_cases import LATER, dismissed_case

__all__ = ["database_url", "store"]

SECRET = "whsec-test-0123456789"
ONCE = PushOutcomesInput(drain_seconds=0)


@pytest.fixture
def receiver() -> Iterator[OutcomeReceiver]:
    fake = OutcomeReceiver(SECRET)
    yield fake
    fake.close()


async def _ended_cases(store: Store, cases: int = 2, alerts: int = 2) -> None:
    for n in range(cases):
        arrival, ending = dismissed_case(f"key-1.run-{n + 2}", alerts)
        await _record(store, arrival + ending)


async def _record(store: Store, facts: list[AuditFact]) -> None:
    await store.write(lambda c: append_facts(c, facts, LATER))


async def test_every_outcome_arrives_signed_in_order_once(
    store: Store, receiver: OutcomeReceiver
) -> None:
    await _ended_cases(store)
    push = OutcomePushActivities(store, receiver.url, SECRET)

    first = await ActivityEnvironment().run(push.push_outcomes, ONCE)
    again = await ActivityEnvironment().run(push.push_outcomes, ONCE)

    assert (first.delivered, again.delivered) == (4, 0)
    assert [o["seq"] for o in receiver.taken] == [1, 2, 3, 4]
    assert receiver.bad_signatures == 0
    expected = await store.read(lambda c: outcomes_since(c, 0, 10))
    assert receiver.taken == [o.model_dump(mode="json") for o in expected]


async def test_a_refusing_receiver_stops_the_drain_and_the_retry_goes_on_from_there(
    store: Store, receiver: OutcomeReceiver
) -> None:
    await _ended_cases(store)
    push = OutcomePushActivities(store, receiver.url, SECRET)
    receiver.fail_for(3600)

    with pytest.raises(ApplicationError, match="outcome 1: the receiver answered 503"):
        await ActivityEnvironment().run(push.push_outcomes, ONCE)
    receiver.fail_for(0)
    retried = await ActivityEnvironment().run(push.push_outcomes, ONCE)

    assert receiver.refused == 1 and retried.delivered == 4
    assert [o["seq"] for o in receiver.taken] == [1, 2, 3, 4]
    assert await store.read(lambda c: undelivered(c, 10)) == []


async def test_a_receiver_with_another_secret_takes_nothing(
    store: Store, receiver: OutcomeReceiver
) -> None:
    await _ended_cases(store, cases=1, alerts=1)
    push = OutcomePushActivities(store, receiver.url, "another-secret")

    with pytest.raises(ApplicationError, match="answered 401"):
        await ActivityEnvironment().run(push.push_outcomes, ONCE)

    assert receiver.bad_signatures == 1 and receiver.taken == []
    assert [o.seq for o in await store.read(lambda c: undelivered(c, 10))] == [1]


async def test_an_unreachable_receiver_is_an_error_to_retry(store: Store) -> None:
    await _ended_cases(store, cases=1, alerts=1)
    push = OutcomePushActivities(store, "http://127.0.0.1:9/outcomes", SECRET)

    with pytest.raises(ApplicationError, match="outcome 1: ConnectError"):
        await ActivityEnvironment().run(push.push_outcomes, ONCE)
