"""Key measures on both backends: the status change and its facts in one transaction, once."""

from datetime import timedelta

import pytest

from domain.activity_io import ApplyKeyMeasureInput, KeyMeasure
from domain.keys import KeyStatus, Permission
from store.audit import audit_rows
from store.port import Store
from store.registry import UnknownKey, apply_measure, key_state
from tests.store.factories import T0, add_key, fact

CASE = "key-1.run-1"


def _measure(what: KeyMeasure, key_id: str = "key-1") -> ApplyKeyMeasureInput:
    return ApplyKeyMeasureInput(
        event_id=f"{CASE}:key:{what.value}",
        case_id=CASE,
        key_id=key_id,
        measure=what,
        actor="keycase",
        reason="test",
        occurred_at=T0,
        facts=[fact(f"{CASE}:stage:{what.value}", "stage.changed")],
    )


async def test_a_measure_changes_the_key_once_and_records_why(store: Store) -> None:
    await add_key(store)
    request = _measure(KeyMeasure.RESTRICT)

    first = await store.write(lambda c: apply_measure(c, request, T0))
    again = await store.write(lambda c: apply_measure(c, request, T0))
    state = await store.read(lambda c: key_state(c, "key-1", first, T0 + timedelta(seconds=1)))
    rows = await store.read(lambda c: audit_rows(c, key_id="key-1"))
    assert rows.pop(0).event_type == "key.registered"  # the registration, then the measures

    assert (first, again) == (True, False)
    assert (state.status, state.permissions, state.gateway_reason) == (
        KeyStatus.RESTRICTED,
        [Permission.READ],
        "allowed",
    )
    assert [(r.event_type, r.payload.get("to")) for r in rows] == [
        ("stage.changed", None),
        ("key.status_changed", "RESTRICTED"),
    ]


async def test_a_measure_that_does_not_apply_is_recorded_unchanged(store: Store) -> None:
    await add_key(store)
    await store.write(lambda c: apply_measure(c, _measure(KeyMeasure.EXPIRE), T0))

    changed = await store.write(lambda c: apply_measure(c, _measure(KeyMeasure.RESTORE), T0))
    state = await store.read(lambda c: key_state(c, "key-1", changed, T0))

    assert changed is False
    assert (state.status, state.permissions, state.expired_at) == (KeyStatus.EXPIRED, [], T0)
    last = (await store.read(lambda c: audit_rows(c, key_id="key-1")))[-1]
    assert last.event_type == "key.status_unchanged"


async def test_a_measure_on_an_unknown_key_writes_nothing(store: Store) -> None:
    with pytest.raises(UnknownKey):
        await store.write(lambda c: apply_measure(c, _measure(KeyMeasure.MONITOR, "ghost"), T0))
    with pytest.raises(UnknownKey):
        await store.read(lambda c: key_state(c, "ghost", False, T0))
    assert await store.read(audit_rows) == []
