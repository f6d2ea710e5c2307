"""Audit appends: one row per event id, one chain however many writers."""

import asyncio

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.audit import append_facts, audit_rows, verify
from store.audit_chain import GENESIS, ForbiddenPayload
from store.models import AuditEntry
from store.uow import run_write
from tests.store.factories import T0, fact

Sessions = async_sessionmaker[AsyncSession]


async def _append(sessions: Sessions, *facts: object) -> int:
    return await run_write(sessions, lambda s: append_facts(s, list(facts), T0))  # type: ignore[arg-type]


async def _count(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_appending_the_same_event_twice_writes_one_row(sessions: Sessions) -> None:
    assert await _append(sessions, fact("a"), fact("b"), fact("a")) == 2
    assert await _append(sessions, fact("b"), fact("a")) == 0
    assert await _append(sessions, fact("b"), fact("c")) == 1
    async with sessions() as session:
        rows = await audit_rows(session, case_id="key-1.run-1")
    assert [(r.seq, r.event_id) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_rows_link_each_to_the_previous_hash(sessions: Sessions) -> None:
    await _append(sessions, fact("a", kind="key_sharing"), fact("b", stage="WARNED"))
    async with sessions() as session:
        first, second = await audit_rows(session, key_id="key-1")
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.row_hash
    assert second.payload == {"stage": "WARNED"}
    assert first.occurred_at == T0


async def test_rows_are_filtered_by_case_and_key(sessions: Sessions) -> None:
    other = fact("z").model_copy(update={"case_id": "key-2.run-9", "key_id": "key-2"})
    await _append(sessions, fact("a"), other, fact("b"))
    async with sessions() as session:
        mine = await audit_rows(session, case_id="key-1.run-1")
        theirs = await audit_rows(session, key_id="key-2")
        page = await audit_rows(session, key_id="key-1", after_seq=1)
    assert [r.event_id for r in mine] == ["a", "b"]
    assert [r.event_id for r in theirs] == ["z"]
    assert [r.event_id for r in page] == ["b"]


async def test_payload_with_contacts_is_refused_and_nothing_written(sessions: Sessions) -> None:
    with pytest.raises(ForbiddenPayload):
        await _append(sessions, fact("a"), fact("b", notice={"to": {"Email": "x@y.z"}}))
    assert await _count(sessions) == 0


async def test_concurrent_writers_never_fork_the_chain(sessions: Sessions) -> None:
    # 30 writers, each event id offered by two of them at the same time.
    writers = [_append(sessions, *(fact(f"e{i // 2}-{j}") for j in range(3))) for i in range(30)]
    written = await asyncio.gather(*writers)
    assert sum(written) == 45
    assert await _count(sessions) == 45
    async with sessions() as session:
        report = await verify(session)
        seqs = list(await session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
    assert report.ok and report.rows_checked == 45
    assert seqs == list(range(1, 46))


async def test_database_refuses_a_second_row_on_the_same_head(sessions: Sessions) -> None:
    await _append(sessions, fact("a"))
    async with sessions() as session:
        head = await session.get(AuditEntry, 1)
        assert head is not None
        fork = AuditEntry(
            seq=2,
            event_id="fork",
            event_type="alert.received",
            key_id="key-1",
            actor="x",
            occurred_at=T0,
            recorded_at=T0,
            payload="{}",
            prev_hash=GENESIS,  # claims the same predecessor as row 1
            row_hash="f" * 64,
        )
        session.add(fork)
        with pytest.raises(IntegrityError):
            await session.commit()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
async def test_database_keeps_the_log_append_only(sessions: Sessions, statement: str) -> None:
    await _append(sessions, fact("a"))
    async with sessions() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement))
