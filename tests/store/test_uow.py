"""Write units: a lost race with another writer is retried, a bad row is not."""

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.audit import append_facts, audit_rows
from store.audit_chain import GENESIS
from store.models import ApiKey, AuditEntry
from store.uow import is_conflict, run_write
from tests.store.factories import T0, fact

Sessions = async_sessionmaker[AsyncSession]


def _stale_head_row(event_id: str) -> AuditEntry:
    """What a writer that read the chain before another writer committed would insert."""
    return AuditEntry(
        seq=1,
        event_id=event_id,
        event_type="alert.received",
        key_id="key-1",
        actor="keycase",
        occurred_at=T0,
        recorded_at=T0,
        payload="{}",
        prev_hash=GENESIS,
        row_hash="c" * 64,
    )


async def test_writer_that_lost_the_race_for_the_head_is_retried(sessions: Sessions) -> None:
    await run_write(sessions, lambda s: append_facts(s, [fact("first")], T0))
    attempts: list[int] = []

    async def work(session: AsyncSession) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            session.add(_stale_head_row("second"))
            await session.flush()
        return await append_facts(session, [fact("second")], T0)

    assert await run_write(sessions, work) == 1
    assert len(attempts) == 2
    async with sessions() as session:
        assert [r.event_id for r in await audit_rows(session)] == ["first", "second"]


async def test_row_the_database_refuses_is_not_retried(sessions: Sessions) -> None:
    attempts: list[int] = []

    async def work(session: AsyncSession) -> None:
        attempts.append(1)
        session.add(
            ApiKey(
                key_id="k",
                account_id="nobody",  # no such account
                exchange="upbit",
                permissions=["read"],
                status="ACTIVE",
                allowed_ips=[],
                created_at=T0,
                updated_at=T0,
            )
        )
        await session.flush()

    with pytest.raises(IntegrityError) as caught:
        await run_write(sessions, work)
    assert not is_conflict(caught.value)
    assert len(attempts) == 1
