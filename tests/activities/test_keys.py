"""`apply_key_measure`: status and facts in one transaction, safe to repeat, expiry read back."""

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.keys import KeyActivities
from domain.effects import ApplyKeyMeasureInput, AuditFact, KeyMeasure, KeyStateResult
from domain.gateway import GatewayReason
from domain.keys import KeyStatus, Permission
from store.access import authorize
from store.audit import audit_rows, verify
from store.loop_sqlite import LoopSqlite, sqlite_file
from store.registry import get_key
from tests.store.databases import database_url, sessions
from tests.store.factories import T0, add_key, fact
from tests.store.loop_ticks import LoopTicks

__all__ = ["database_url", "sessions"]

Sessions = async_sessionmaker[AsyncSession]
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


async def apply(sessions: Sessions, request: ApplyKeyMeasureInput) -> KeyStateResult:
    """As the worker applies: in the event loop on a SQLite file, else through the engine."""
    loop = LoopSqlite.for_engine(sessions.kw["bind"])
    activities = KeyActivities(sessions, clock=lambda: T0 + timedelta(hours=2), loop=loop)
    try:
        return await ActivityEnvironment().run(activities.apply_key_measure, request)
    finally:
        if loop is not None:
            loop.close()


async def rows(sessions: Sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        return [(r.event_id, r.event_type) for r in await audit_rows(session, key_id="key-1")]


async def test_monitor_flags_key_and_records_the_change_with_its_facts(sessions: Sessions) -> None:
    await add_key(sessions)
    stage = fact(f"{CASE}:stage:1", "stage.changed", to="MONITORING")
    result = await apply(sessions, measure(KeyMeasure.MONITOR, [stage]))
    assert (result.status, result.changed, result.gateway_reason) == (
        KeyStatus.MONITORED,
        True,
        "allowed",
    )
    assert await rows(sessions) == [
        (f"{CASE}:stage:1", "stage.changed"),
        (f"{CASE}:key:monitor", "key.status_changed"),
    ]


async def test_repeating_a_measure_changes_and_writes_nothing(sessions: Sessions) -> None:
    await add_key(sessions)
    request = measure(KeyMeasure.RESTRICT, [fact(f"{CASE}:stage:2", "stage.changed")])
    first = await apply(sessions, request)
    again = await apply(sessions, request)
    assert (first.changed, again.changed) == (True, False)
    assert first.model_copy(update={"changed": False}) == again
    assert len(await rows(sessions)) == 2


async def test_concurrent_attempts_of_one_measure_write_one_change(sessions: Sessions) -> None:
    await add_key(sessions)
    results = await asyncio.gather(
        *(apply(sessions, measure(KeyMeasure.MONITOR)) for _ in range(6))
    )
    assert sorted(r.changed for r in results) == [False] * 5 + [True]
    assert await rows(sessions) == [(f"{CASE}:key:monitor", "key.status_changed")]


async def test_restrict_leaves_read_only_and_restore_gives_everything_back(
    sessions: Sessions,
) -> None:
    await add_key(sessions)
    restricted = await apply(sessions, measure(KeyMeasure.RESTRICT))
    assert restricted.permissions == [Permission.READ]
    async with sessions() as session:
        trade = await authorize(session, "key-1", "203.0.113.5", "trade")
    assert trade.reason is GatewayReason.PERMISSION_RESTRICTED
    restored = await apply(sessions, measure(KeyMeasure.RESTORE))
    assert restored.status is KeyStatus.ACTIVE
    assert restored.permissions == [Permission.READ, Permission.TRADE, Permission.WITHDRAW]


async def test_expiry_is_read_back_recorded_and_final(sessions: Sessions) -> None:
    await add_key(sessions)
    expired = await apply(sessions, measure(KeyMeasure.EXPIRE))
    assert expired.status is KeyStatus.EXPIRED
    assert expired.gateway_reason == GatewayReason.EXPIRED
    assert expired.permissions == []
    assert expired.expired_at == T0 + timedelta(hours=1)
    async with sessions() as session:
        record = await get_key(session, "key-1")
        decision = await authorize(session, "key-1", "203.0.113.5", "read")
        read_back = (await audit_rows(session, key_id="key-1"))[-1]
    assert record is not None and record.status is KeyStatus.EXPIRED
    assert decision.reason is GatewayReason.EXPIRED
    assert read_back.event_type == "key.expiry_read_back"
    assert read_back.payload["status"] == "EXPIRED"
    assert read_back.payload["gateway_reason"] == "expired"

    restored = await apply(sessions, measure(KeyMeasure.RESTORE))
    assert (restored.status, restored.changed) == (KeyStatus.EXPIRED, False)
    assert (await rows(sessions))[-1] == (f"{CASE}:key:restore", "key.status_unchanged")
    again = await apply(sessions, measure(KeyMeasure.EXPIRE))
    assert again.changed is False
    assert len(await rows(sessions)) == 3
    async with sessions() as session:
        assert (await verify(session)).ok


async def test_a_fact_naming_a_contact_is_refused_and_the_measure_still_applies(
    sessions: Sessions,
) -> None:
    await add_key(sessions)
    leaky = fact(f"{CASE}:notice", "notice.sent", phone="+821012345678")

    result = await apply(sessions, measure(KeyMeasure.EXPIRE, [leaky]))

    assert result.status is KeyStatus.EXPIRED
    assert [(r.event_id, r.reason) for r in result.refused] == [
        (f"{CASE}:notice", "payload.phone is named like a contact or a secret")
    ]
    assert f"{CASE}:notice" not in [event_id for event_id, _ in await rows(sessions)]


async def test_unknown_key_fails_without_retry(sessions: Sessions) -> None:
    with pytest.raises(ApplicationError) as caught:
        await apply(sessions, measure(KeyMeasure.MONITOR, key_id="ghost"))
    assert caught.value.non_retryable and caught.value.type == "UnknownKey"


async def test_a_measure_waiting_for_another_process_s_lock_keeps_the_loop_running(
    sessions: Sessions,
) -> None:
    path = sqlite_file(sessions.kw["bind"])
    if path is None:
        pytest.skip("only SQLite is written in the event loop")
    await add_key(sessions)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the API process holds the write lock
    async with LoopTicks(0.001) as ticks:
        applying = asyncio.create_task(apply(sessions, measure(KeyMeasure.MONITOR)))
        await asyncio.sleep(0.1)
        waited = not applying.done()
        other.execute("COMMIT")
        result = await asyncio.wait_for(applying, 5)
    other.close()

    assert waited and result.status is KeyStatus.MONITORED
    assert ticks.count > 20  # the loop kept running while the measure waited
    assert await rows(sessions) == [(f"{CASE}:key:monitor", "key.status_changed")]
