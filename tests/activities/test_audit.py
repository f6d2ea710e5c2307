"""`record_case_facts`: each fact once, in one transaction; contacts never enter the log."""

import asyncio

from temporalio.testing import ActivityEnvironment

from activities.audit import AuditActivities
from domain.activity_io import RecordCaseFactsInput
from store.audit import audit_rows, verify
from store.port import Store
from tests.store.databases import database_url, store
from tests.store.factories import T0, fact

__all__ = ["database_url", "store"]


async def record(store: Store, *event_ids: str, **payload: object) -> int:
    """As the worker records, through its store."""
    facts = [fact(event_id, "stage.changed", **payload) for event_id in event_ids]
    activities = AuditActivities(store, clock=lambda: T0)
    result = await ActivityEnvironment().run(
        activities.record_case_facts, RecordCaseFactsInput(facts=facts)
    )
    return result.appended


async def test_facts_are_recorded_once_however_often_sent(store: Store) -> None:
    assert await record(store, "a", "b") == 2
    assert await record(store, "a", "b") == 0
    assert await record(store, "b", "c") == 1
    rows = await store.read(lambda c: audit_rows(c, case_id="key-1.run-1"))
    assert [(r.event_id, r.event_type, r.actor) for r in rows] == [
        ("a", "stage.changed", "keycase"),
        ("b", "stage.changed", "keycase"),
        ("c", "stage.changed", "keycase"),
    ]


async def test_parallel_retries_write_each_fact_once(store: Store) -> None:
    counts = await asyncio.gather(*(record(store, "x", "y", "z") for _ in range(8)))
    assert sum(counts) == 3
    report = await store.scan(verify)
    assert (report.ok, report.rows_checked) == (True, 3)


async def test_a_fact_naming_a_contact_is_refused_and_the_others_are_kept(store: Store) -> None:
    facts = [
        fact("a", "stage.changed"),
        fact("b", "alert.received", evidence={"who": {"E-mail": "owner@example.com"}}),
    ]
    activities = AuditActivities(store, clock=lambda: T0)

    result = await ActivityEnvironment().run(
        activities.record_case_facts, RecordCaseFactsInput(facts=facts)
    )

    assert result.appended == 1
    assert [(r.event_id, r.reason) for r in result.refused] == [
        ("b", "payload.evidence.who.E-mail is named like a contact or a secret")
    ]
    assert [r.event_id for r in await store.read(audit_rows)] == ["a"]
