"""The alert intake table on SQLite and PostgreSQL: one claim per alert id, first case wins."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.intake import IntakeStore
from domain.alerts import Alert
from store.group_commit import GroupCommit
from store.intake import AlertIntake
from store.loop_sqlite import LoopSqlite
from store.uow import run_write
from tests.store.databases import database_url, sessions

__all__ = ["database_url", "sessions"]

Sessions = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def _claim(sessions: Sessions, alert_id: str, now: datetime = NOW) -> bool:
    async def work(session: AsyncSession) -> bool:
        _, claimed = await AlertIntake(session).claim(alert_id, "key-1", now)
        return claimed

    return await run_write(sessions, work)


async def test_of_concurrent_claims_of_one_alert_id_exactly_one_wins(sessions: Sessions) -> None:
    results = await asyncio.gather(*(_claim(sessions, "sv-1") for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]


async def test_settled_alert_keeps_its_first_case(sessions: Sessions) -> None:
    await _claim(sessions, "sv-2")

    async def settle(session: AsyncSession, case_id: str) -> str | None:
        record = await AlertIntake(session).settle("sv-2", "key-1", case_id, NOW)
        return record.case_id

    first = await run_write(sessions, lambda s: settle(s, "key-1.run-a"))
    second = await run_write(sessions, lambda s: settle(s, "key-1.run-b"))

    assert first == second == "key-1.run-a"
    assert not await _claim(sessions, "sv-2")


async def test_released_claim_can_be_claimed_again(sessions: Sessions) -> None:
    await _claim(sessions, "sv-3")

    await run_write(sessions, lambda s: AlertIntake(s).release("sv-3"))

    assert await _claim(sessions, "sv-3")


async def test_only_a_stale_claim_is_taken_over(sessions: Sessions) -> None:
    await _claim(sessions, "sv-4")

    async def take_over(session: AsyncSession, claimed_before: datetime) -> bool:
        return await AlertIntake(session).take_over("sv-4", claimed_before, NOW)

    fresh = await run_write(sessions, lambda s: take_over(s, NOW - timedelta(minutes=1)))
    stale = await run_write(sessions, lambda s: take_over(s, NOW + timedelta(minutes=1)))

    assert (fresh, stale) == (False, True)


def _store(sessions: Sessions) -> IntakeStore:
    """What the API uses: event-loop SQLite on a SQLite file, the engine on PostgreSQL."""
    engine = sessions.kw["bind"]
    return IntakeStore(sessions, GroupCommit(sessions), LoopSqlite.for_engine(engine))


def _alert(alert_id: str) -> Alert:
    return Alert(
        alert_id=alert_id,
        key_id="key-1",
        account_id="acct-1",
        exchange="upbit",
        kind="key_sharing",
        severity="high",
        observed_at=NOW,
    )


async def test_intake_store_lets_one_of_concurrent_claims_win_and_keeps_the_first_case(
    sessions: Sessions,
) -> None:
    store = _store(sessions)
    alert = _alert("sv-5")

    claims = await asyncio.gather(*(store.claim(alert) for _ in range(8)))
    first = await store.settle(alert, "key-1.run-a")
    second = await store.settle(alert, "key-1.run-b")
    seen, _ = await store.look(alert)
    store.close()

    assert sorted(claimed for _, claimed in claims) == [False] * 7 + [True]
    assert first.case_id == second.case_id == "key-1.run-a"
    assert seen is not None and seen.case_id == "key-1.run-a"


async def test_intake_store_reads_the_key_owner_and_a_released_claim_is_claimable(
    sessions: Sessions,
) -> None:
    store = _store(sessions)
    alert = _alert("sv-6")

    _, owner = await store.look(alert)
    _, claimed = await store.claim(alert)
    await store.release(alert)
    _, again = await store.claim(alert)
    store.close()

    assert owner is None  # no such key registered in this store
    assert claimed and again
