"""`apply_key_measure`: status and facts in one transaction, safe to repeat, expiry read back."""

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.keys import KeyActivities
from domain.activity_io import ApplyKeyMeasureInput, AuditFact, KeyMeasure, KeyStateResult
from domain.gateway import GatewayReason, decide
from domain.keys import KeyStatus, Permission
from store.access import key_view
from store.audit import audit_rows, verify
from store.engine import open_store
from store.port import Store
from store.registry import get_key
from tests.store.databases import database_url, store
from tests.store.factories import T0, add_key, fact
from tests.store.loop_ticks import LoopTicks

__all__ = ["database_url", "store"]

CASE = "key-1.run-1"


def measure(
    what: KeyMeasure, facts: list[AuditFact] | None = None, key_id: str = "key-1"
) -> ApplyKeyMeasureInput:
    return ApplyKeyMeasureInput(
        event_id=f"{CASE}:key:{what.value}",
        case_id=CASE,
        key_id=key_id,
        measure=what,
        actor="officer-kim",
        reason="shared key suspected",
        occurred_at=T0 + timedelta(hours=1),
        facts=facts or [],
    )


async def apply(store: Store, request: ApplyKeyMeasureInput) -> KeyStateResult:
    """As a worker applies, through its store."""
    activities = KeyActivities(store, clock=lambda: T0 + timedelta(hours=2))
    return await ActivityEnvironment().run(activities.apply_key_measure, request)


async def apply_elsewhere(database_url: str, request: ApplyKeyMeasureInput) -> KeyStateResult:
    """As another worker process applies, through a store of its own."""
    other = open_store(database_url)
    try:
        return await apply(other, request)
    finally:
        await other.close()


async def rows(store: Store) -> list[tuple[str, str]]:
    found = await store.read(lambda c: audit_rows(c, key_id="key-1"))
    return [(r.event_id, r.event_type) for r in found]


async def gateway(store: Store, ip: str, permission: Permission) -> GatewayReason:
    view = await store.read(lambda c: key_view(c, "key-1"))
    return decide(view, ip, permission, T0 + timedelta(hours=3)).reason


async def test_monitor_flags_key_and_records_the_change_with_its_facts(store: Store) -> None:
    await add_key(store)
    stage = fact(f"{CASE}:stage:1", "stage.changed", to="MONITORING")
    result = await apply(store, measure(KeyMeasure.MONITOR, [stage]))
    assert (result.status, result.changed, result.gateway_reason) == (
        KeyStatus.MONITORED,
        True,
        "allowed",
    )
    assert await rows(store) == [
        (f"{CASE}:stage:1", "stage.changed"),
        (f"{CASE}:key:monitor", "key.status_changed"),
    ]


async def test_repeating_a_measure_changes_and_writes_nothing(store: Store) -> None:
    await add_key(store)
    request = measure(KeyMeasure.RESTRICT, [fact(f"{CASE}:stage:2", "stage.changed")])
    first = await apply(store, request)
    again = await apply(store, request)
    assert (first.changed, again.changed) == (True, False)
    assert first.model_copy(update={"changed": False}) == again
    assert len(await rows(store)) == 2


async def test_concurrent_attempts_of_one_measure_write_one_change(
    store: Store, database_url: str
) -> None:
    await add_key(store)
    results = await asyncio.gather(
        *(apply_elsewhere(database_url, measure(KeyMeasure.MONITOR)) for _ in range(3)),
        *(apply(store, measure(KeyMeasure.MONITOR)) for _ in range(3)),
    )
    assert sorted(r.changed for r in results) == [False] * 5 + [True]
    assert await rows(store) == [(f"{CASE}:key:monitor", "key.status_changed")]


async def test_restrict_leaves_read_only_and_restore_gives_everything_back(
    store: Store,
) -> None:
    await add_key(store)
    restricted = await apply(store, measure(KeyMeasure.RESTRICT))
    assert restricted.permissions == [Permission.READ]
    trade = await gateway(store, "203.0.113.5", Permission.TRADE)
    assert trade is GatewayReason.PERMISSION_RESTRICTED
    restored = await apply(store, measure(KeyMeasure.RESTORE))
    assert restored.status is KeyStatus.ACTIVE
    assert restored.permissions == [Permission.READ, Permission.TRADE, Permission.WITHDRAW]


async def test_expiry_is_read_back_recorded_and_final(store: Store) -> None:
    await add_key(store)
    expired = await apply(store, measure(KeyMeasure.EXPIRE))
    assert expired.status is KeyStatus.EXPIRED
    assert expired.gateway_reason == GatewayReason.EXPIRED
    assert expired.permissions == []
    assert expired.expired_at == T0 + timedelta(hours=1)
    record = await store.read(lambda c: get_key(c, "key-1"))
    decision = await gateway(store, "203.0.113.5", Permission.READ)
    read_back = (await store.read(lambda c: audit_rows(c, key_id="key-1")))[-1]
    assert record is not None and record.status is KeyStatus.EXPIRED
    assert decision is GatewayReason.EXPIRED
    assert read_back.event_type == "key.expiry_read_back"
    assert read_back.payload["status"] == "EXPIRED"
    assert read_back.payload["gateway_reason"] == "expired"

    restored = await apply(store, measure(KeyMeasure.RESTORE))
    assert (restored.status, restored.changed) == (KeyStatus.EXPIRED, False)
    assert (await rows(store))[-1] == (f"{CASE}:key:restore", "key.status_unchanged")
    again = await apply(store, measure(KeyMeasure.EXPIRE))
    assert again.changed is False
    assert len(await rows(store)) == 3
    assert (await store.scan(verify)).ok


async def test_a_fact_naming_a_contact_is_refused_and_the_measure_still_applies(
    store: Store,
) -> None:
    await add_key(store)
    leaky = fact(f"{CASE}:notice", "notice.sent", phone="+821012345678")

    result = await apply(store, measure(KeyMeasure.EXPIRE, [leaky]))

    assert result.status is KeyStatus.EXPIRED
    assert [(r.event_id, r.reason) for r in result.refused] == [
        (f"{CASE}:notice", "payload.phone is named like a contact or a secret")
    ]
    assert f"{CASE}:notice" not in [event_id for event_id, _ in await rows(store)]


async def test_unknown_key_fails_without_retry(store: Store) -> None:
    with pytest.raises(ApplicationError) as caught:
        await apply(store, measure(KeyMeasure.MONITOR, key_id="ghost"))
    assert caught.value.non_retryable and caught.value.type == "UnknownKey"


async def test_a_measure_waiting_for_another_process_s_lock_keeps_the_loop_running(
    store: Store, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("only SQLite is written in the event loop")
    path = database_url.split("///", 1)[1]
    await add_key(store)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the API process holds the write lock
    async with LoopTicks(0.001) as ticks:
        applying = asyncio.create_task(apply(store, measure(KeyMeasure.MONITOR)))
        await asyncio.sleep(0.1)
        waited = not applying.done()
        other.execute("COMMIT")
        result = await asyncio.wait_for(applying, 5)
    other.close()

    assert waited and result.status is KeyStatus.MONITORED
    assert ticks.count > 20  # the loop kept running while the measure waited
    assert await rows(store) == [(f"{CASE}:key:monitor", "key.status_changed")]
