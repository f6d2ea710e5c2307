"""Audit appends: one row per event id, one chain however many writers."""

import asyncio

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.activity_io import AuditFact
from store.audit import GENESIS, ForbiddenPayload, append_facts, audit_rows, verify
from store.models import AuditEntry
from store.port import Store
from tests.store.factories import T0, fact


async def _append(store: Store, *facts: AuditFact) -> int:
    return await store.write(lambda c: append_facts(c, list(facts), T0))


async def _count(store: Store) -> int:
    count = select(func.count()).select_from(AuditEntry)
    return await store.read(lambda c: c.execute(count).scalar_one())


async def test_appending_the_same_event_twice_writes_one_row(store: Store) -> None:
    assert await _append(store, fact("a"), fact("b"), fact("a")) == 2
    assert await _append(store, fact("b"), fact("a")) == 0
    assert await _append(store, fact("b"), fact("c")) == 1
    rows = await store.read(lambda c: audit_rows(c, case_id="key-1.run-1"))
    assert [(r.seq, r.event_id) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


async def test_rows_link_each_to_the_previous_hash(store: Store) -> None:
    await _append(store, fact("a", kind="key_sharing"), fact("b", stage="WARNED"))
    first, second = await store.read(lambda c: audit_rows(c, key_id="key-1"))
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.row_hash
    assert second.payload == {"stage": "WARNED"}
    assert first.occurred_at == T0


async def test_rows_are_filtered_by_case_and_key(store: Store) -> None:
    other = fact("z").model_copy(update={"case_id": "key-2.run-9", "key_id": "key-2"})
    await _append(store, fact("a"), other, fact("b"))
    mine = await store.read(lambda c: audit_rows(c, case_id="key-1.run-1"))
    theirs = await store.read(lambda c: audit_rows(c, key_id="key-2"))
    page = await store.read(lambda c: audit_rows(c, key_id="key-1", after_seq=1))
    assert [r.event_id for r in mine] == ["a", "b"]
    assert [r.event_id for r in theirs] == ["z"]
    assert [r.event_id for r in page] == ["b"]


async def test_payload_with_contacts_is_refused_and_nothing_written(store: Store) -> None:
    with pytest.raises(ForbiddenPayload):
        await _append(store, fact("a"), fact("b", notice={"to": {"Email": "x@y.z"}}))
    assert await _count(store) == 0


async def test_concurrent_writers_never_fork_the_chain(store: Store) -> None:
    # 30 writers, each event id offered by two of them at the same time.
    writers = [_append(store, *(fact(f"e{i // 2}-{j}") for j in range(3))) for i in range(30)]
    written = await asyncio.gather(*writers)
    assert sum(written) == 45
    assert await _count(store) == 45
    report = await store.scan(verify)
    seqs = list(
        await store.read(lambda c: c.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all())
    )
    assert report.ok and report.rows_checked == 45
    assert seqs == list(range(1, 46))


async def test_database_refuses_a_second_row_on_the_same_head(store: Store) -> None:
    await _append(store, fact("a"))
    fork = insert(AuditEntry).values(
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
    with pytest.raises(IntegrityError):
        await store.write(lambda c: c.execute(fork))


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
async def test_database_keeps_the_log_append_only(store: Store, statement: str) -> None:
    await _append(store, fact("a"))
    with pytest.raises(DBAPIError, match="append-only"):
        await store.write(lambda c: c.execute(text(statement)))
