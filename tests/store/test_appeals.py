"""Appeal records and replacement keys, on both backends: each write once, with its fact."""

from datetime import timedelta

import pytest

from domain.alerts import Severity
from domain.appeals import AppealDecision, AppealInput, AppealState, AppealStatus, decided
from domain.audit_events import EventType
from store.appeals import (
    ReplacementRefused,
    file_appeal,
    get_appeal,
    record_decision,
    register_replacement,
)
from store.audit import audit_rows, verify
from store.port import Store
from store.registry import KeyRecord, get_key
from tests.store.factories import T0, add_key

CASE = "key-1.run-1"
FILING = AppealInput(
    case_id=CASE,
    key_id="key-1",
    account_id="acc-1",
    exchange="upbit",
    severity=Severity.HIGH,
    expired_at=T0,
    statement="The second address is my office; I never lent the key.",
    filed_by="help-desk",
    filed_at=T0 + timedelta(hours=1),
    replacement_cooldown=timedelta(days=1),
)
DECIDED_AT = T0 + timedelta(hours=2)


def _decided(upheld: bool) -> AppealState:
    review = AppealState(case_id=CASE, key_id="key-1", filed_by="help-desk", filed_at=T0)
    decision = AppealDecision(upheld=upheld, actor="kim", reason="office address confirmed")
    return decided(review, decision, DECIDED_AT, FILING.replacement_cooldown)


async def _appealed(store: Store, upheld: bool | None) -> None:
    await add_key(store)
    assert await store.write(lambda c: file_appeal(c, FILING, T0))
    if upheld is not None:
        assert await store.write(lambda c: record_decision(c, _decided(upheld), DECIDED_AT))


async def _replace(
    store: Store, key_id: str = "key-2", at: timedelta = timedelta(days=2)
) -> KeyRecord:
    return await store.write(
        lambda c: register_replacement(
            c,
            replaces="key-1",
            key_id=key_id,
            account_id="acc-1",
            exchange="upbit",
            permissions=["read", "trade"],
            allowed_ips=["198.51.100.7"],
            now=T0 + at,
            actor="root",
        )
    )


async def _types(store: Store) -> list[str]:
    rows = await store.read(lambda c: audit_rows(c, case_id=CASE))
    return [row.event_type for row in rows]


async def test_filing_and_deciding_twice_record_each_once(store: Store) -> None:
    await _appealed(store, upheld=True)

    assert not await store.write(lambda c: file_appeal(c, FILING, T0))
    assert not await store.write(lambda c: record_decision(c, _decided(False), DECIDED_AT))

    appeal = await store.read(lambda c: get_appeal(c, CASE))
    assert appeal is not None
    assert appeal.status is AppealStatus.UPHELD
    assert appeal.statement == FILING.statement
    assert appeal.replacement_allowed_from == DECIDED_AT + timedelta(days=1)
    assert await _types(store) == [EventType.APPEAL_FILED, EventType.APPEAL_UPHELD]
    assert (await store.scan(verify)).ok


async def test_the_statement_stays_out_of_the_audit_chain(store: Store) -> None:
    await _appealed(store, upheld=None)

    rows = await store.read(lambda c: audit_rows(c, case_id=CASE))
    assert "office" not in str([row.payload for row in rows])
    assert rows[0].payload["statement_bytes"] == len(FILING.statement.encode())


async def test_an_upheld_appeal_links_one_replacement_key_after_the_cooldown(store: Store) -> None:
    await _appealed(store, upheld=True)

    with pytest.raises(ReplacementRefused, match="may be registered from"):
        await _replace(store, at=timedelta(hours=3))
    assert await store.read(lambda c: get_key(c, "key-2")) is None  # nothing half-done
    record = await _replace(store)
    again = await _replace(store)  # the same registration repeated

    assert again == record
    appeal = await store.read(lambda c: get_appeal(c, CASE))
    assert appeal is not None and appeal.replacement_key_id == "key-2"
    with pytest.raises(ReplacementRefused, match="already replaced by key key-2"):
        await _replace(store, key_id="key-3")
    types = await _types(store)
    assert types.count(EventType.KEY_REPLACED) == 1


async def test_a_rejected_appeal_refuses_a_replacement_with_its_reason(store: Store) -> None:
    await _appealed(store, upheld=False)

    with pytest.raises(ReplacementRefused, match="rejected by kim: office address confirmed"):
        await _replace(store)
    assert await store.read(lambda c: get_key(c, "key-2")) is None


async def test_no_appeal_or_one_under_review_refuses_a_replacement(store: Store) -> None:
    await add_key(store)
    with pytest.raises(ReplacementRefused, match="has no appeal"):
        await _replace(store)
    await store.write(lambda c: file_appeal(c, FILING, T0))
    with pytest.raises(ReplacementRefused, match="still under review"):
        await _replace(store)


async def test_an_existing_key_cannot_become_the_replacement(store: Store) -> None:
    await _appealed(store, upheld=True)
    await add_key(store, key_id="key-2")

    with pytest.raises(ReplacementRefused, match="registered already"):
        await _replace(store)
