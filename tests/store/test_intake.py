"""The alert intake table on SQLite and PostgreSQL: one claim per alert id, first case wins."""

import asyncio
from datetime import UTC, datetime, timedelta

from domain.intake import KeyOwner
from domain.keys import KeyStatus
from store.intake import AlertIntake
from store.port import Store
from tests.store.factories import add_key

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def _claim(store: Store, alert_id: str, now: datetime = NOW) -> bool:
    _, claimed = await store.write(lambda c: AlertIntake(c).claim(alert_id, "key-1", now))
    return claimed


async def test_of_concurrent_claims_of_one_alert_id_exactly_one_wins(store: Store) -> None:
    results = await asyncio.gather(*(_claim(store, "sv-1") for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]


async def test_settled_alert_keeps_its_first_case(store: Store) -> None:
    await _claim(store, "sv-2")

    first = await store.write(lambda c: AlertIntake(c).settle("sv-2", "key-1", "key-1.run-a", NOW))
    second = await store.write(lambda c: AlertIntake(c).settle("sv-2", "key-1", "key-1.run-b", NOW))
    seen = await store.read(lambda c: AlertIntake(c).find("sv-2"))

    assert first.case_id == second.case_id == "key-1.run-a"
    assert seen is not None and seen.case_id == "key-1.run-a"
    assert not await _claim(store, "sv-2")


async def test_released_claim_can_be_claimed_again(store: Store) -> None:
    await _claim(store, "sv-3")

    await store.write(lambda c: AlertIntake(c).release("sv-3"))

    assert await _claim(store, "sv-3")


async def test_only_a_stale_claim_is_taken_over(store: Store) -> None:
    await _claim(store, "sv-4")

    async def take_over(claimed_before: datetime) -> bool:
        return await store.write(lambda c: AlertIntake(c).take_over("sv-4", claimed_before, NOW))

    fresh = await take_over(NOW - timedelta(minutes=1))
    stale = await take_over(NOW + timedelta(minutes=1))

    assert (fresh, stale) == (False, True)


async def test_intake_reads_the_key_owner(store: Store) -> None:
    await add_key(store)

    owner = await store.read(lambda c: AlertIntake(c).key_owner("key-1"))
    nobody = await store.read(lambda c: AlertIntake(c).key_owner("key-404"))

    assert owner == KeyOwner("acc-1", "upbit", KeyStatus.ACTIVE)
    assert nobody is None
