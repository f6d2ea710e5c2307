"""`record_case_facts`: each fact once, in one transaction; contacts never enter the log."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.audit import AuditActivities
from domain.effects import RecordCaseFactsInput
from store.audit import audit_rows, verify
from store.loop_sqlite import LoopSqlite
from tests.store.databases import database_url, sessions
from tests.store.factories import T0, fact

__all__ = ["database_url", "sessions"]

Sessions = async_sessionmaker[AsyncSession]


async def record(sessions: Sessions, *event_ids: str, **payload: object) -> int:
    """As the worker records: in the event loop on a SQLite file, else through the engine."""
    facts = [fact(event_id, "stage.changed", **payload) for event_id in event_ids]
    loop = LoopSqlite.for_engine(sessions.kw["bind"])
    activities = AuditActivities(sessions, clock=lambda: T0, loop=loop)
    try:
        result = await ActivityEnvironment().run(
            activities.record_case_facts, RecordCaseFactsInput(facts=facts)
        )
    finally:
        if loop is not None:
            loop.close()
    return result.appended


async def test_facts_are_recorded_once_however_often_sent(sessions: Sessions) -> None:
    assert await record(sessions, "a", "b") == 2
    assert await record(sessions, "a", "b") == 0
    assert await record(sessions, "b", "c") == 1
    async with sessions() as session:
        rows = await audit_rows(session, case_id="key-1.run-1")
    assert [(r.event_id, r.event_type, r.actor) for r in rows] == [
        ("a", "stage.changed", "keycase"),
        ("b", "stage.changed", "keycase"),
        ("c", "stage.changed", "keycase"),
    ]


async def test_parallel_retries_write_each_fact_once(sessions: Sessions) -> None:
    counts = await asyncio.gather(*(record(sessions, "x", "y", "z") for _ in range(8)))
    assert sum(counts) == 3
    async with sessions() as session:
        report = await verify(session)
    assert (report.ok, report.rows_checked) == (True, 3)


async def test_a_fact_naming_a_contact_is_refused_and_the_others_are_kept(
    sessions: Sessions,
) -> None:
    facts = [
        fact("a", "stage.changed"),
        fact("b", "alert.received", evidence={"who": {"E-mail": "owner@example.com"}}),
    ]
    activities = AuditActivities(sessions, clock=lambda: T0)

    result = await ActivityEnvironment().run(
        activities.record_case_facts, RecordCaseFactsInput(facts=facts)
    )

    assert result.appended == 1
    assert [(r.event_id, r.reason) for r in result.refused] == [
        ("b", "payload.evidence.who.E-mail is named like a contact or a secret")
    ]
    async with sessions() as session:
        assert [r.event_id for r in await audit_rows(session)] == ["a"]
