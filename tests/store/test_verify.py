"""`verify` finds every kind of tampering and names the first bad row."""

from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Connection, select, update

from store.audit import AuditVerification, append_facts, canonical_json, verify
from store.models import AuditEntry
from store.port import Store
from tests.store import tamper
from tests.store.factories import T0, fact


@pytest_asyncio.fixture
async def chain(store: Store) -> Store:
    """Five rows, seq 1..5."""
    facts = [fact(f"e{i}", step=i) for i in range(1, 6)]
    await store.write(lambda c: append_facts(c, facts, T0))
    return store


async def _verify(store: Store, batch: int = 1000) -> AuditVerification:
    return await store.scan(lambda c: verify(c, batch=batch))


async def _entry(store: Store, seq: int) -> Any:
    query = select(*AuditEntry.__table__.c).where(AuditEntry.seq == seq)
    return await store.read(lambda c: c.execute(query).one())


def _bad(seq: int, problem: str) -> tuple[bool, int | None, str | None]:
    return (False, seq, problem)


def _outcome(report: AuditVerification) -> tuple[bool, int | None, str | None]:
    return (report.ok, report.first_bad_row, report.problem)


async def test_untouched_chain_verifies(chain: Store) -> None:
    report = await _verify(chain, batch=2)  # across batch boundaries
    assert (report.ok, report.rows_checked, report.first_bad_row) == (True, 5, None)


async def test_empty_log_verifies(store: Store) -> None:
    assert (await _verify(store)).model_dump() == {
        "ok": True,
        "rows_checked": 0,
        "first_bad_row": None,
        "problem": None,
    }


async def test_edited_payload_is_found(chain: Store) -> None:
    edit = ("UPDATE audit_log SET payload = :p WHERE seq = 3", {"p": '{"step":30}'})
    await tamper.execute(chain, edit)
    report = await _verify(chain, batch=2)
    assert _outcome(report) == _bad(3, "hash_mismatch")
    assert report.rows_checked == 3


async def test_edited_actor_is_found(chain: Store) -> None:
    await tamper.execute(chain, ("UPDATE audit_log SET actor = 'someone' WHERE seq = 2", {}))
    assert _outcome(await _verify(chain)) == _bad(2, "hash_mismatch")


async def test_edit_with_recomputed_hash_breaks_the_next_link(chain: Store) -> None:
    entry = await _entry(chain, 3)
    fields = dict(entry._asdict())
    fields["payload"] = canonical_json({"step": 30})
    update = "UPDATE audit_log SET payload = :p, row_hash = :h WHERE seq = 3"
    await tamper.execute(chain, (update, {"p": fields["payload"], "h": tamper.forged_hash(fields)}))
    assert _outcome(await _verify(chain)) == _bad(4, "broken_link")


async def test_deleted_row_is_found(chain: Store) -> None:
    await tamper.execute(chain, ("DELETE FROM audit_log WHERE seq = 3", {}))
    assert _outcome(await _verify(chain)) == _bad(4, "sequence_gap")


async def test_deleted_first_row_is_found(chain: Store) -> None:
    await tamper.execute(chain, ("DELETE FROM audit_log WHERE seq = 1", {}))
    assert _outcome(await _verify(chain)) == _bad(2, "sequence_gap")


async def test_deleted_row_with_renumbering_is_found(chain: Store) -> None:
    await tamper.execute(chain, ("DELETE FROM audit_log WHERE seq = 3", {}))
    await tamper.renumber_from(chain, 4, -1)
    assert _outcome(await _verify(chain)) == _bad(3, "broken_link")


async def test_inserted_row_is_found_even_when_carefully_forged(chain: Store) -> None:
    before = await _entry(chain, 2)
    await tamper.renumber_from(chain, 3, +1)
    forged = {
        "seq": 3,
        "event_id": "forged",
        "event_type": "kyc.result",
        "case_id": before.case_id,
        "key_id": before.key_id,
        "actor": "kyc",
        "occurred_at": T0,
        "recorded_at": T0,
        "payload": canonical_json({"passed": True}),
        "prev_hash": before.row_hash,
    }
    forged["row_hash"] = tamper.forged_hash(forged)
    columns = ", ".join(forged)
    values = ", ".join(f":{name}" for name in forged)
    await tamper.execute(
        chain,
        # The next row must point at the forgery, or the database refuses a second successor.
        ("UPDATE audit_log SET prev_hash = :h WHERE seq = 4", {"h": forged["row_hash"]}),
        (f"INSERT INTO audit_log ({columns}) VALUES ({values})", forged),
    )
    assert _outcome(await _verify(chain)) == _bad(4, "hash_mismatch")


async def test_inserted_row_with_made_up_hashes_is_found(chain: Store) -> None:
    await tamper.renumber_from(chain, 3, +1)
    row = {
        "seq": 3,
        "event_id": "forged",
        "event_type": "kyc.result",
        "case_id": None,
        "key_id": "key-1",
        "actor": "kyc",
        "occurred_at": T0,
        "recorded_at": T0,
        "payload": "{}",
        "prev_hash": "a" * 64,
        "row_hash": "b" * 64,
    }
    values = ", ".join(f":{name}" for name in row)
    await tamper.execute(
        chain, (f"INSERT INTO audit_log ({', '.join(row)}) VALUES ({values})", row)
    )
    assert _outcome(await _verify(chain)) == _bad(3, "broken_link")


async def test_reordered_rows_are_found(chain: Store) -> None:
    await tamper.execute(
        chain,
        ("UPDATE audit_log SET seq = 100 WHERE seq = 2", {}),
        ("UPDATE audit_log SET seq = 2 WHERE seq = 4", {}),
        ("UPDATE audit_log SET seq = 4 WHERE seq = 100", {}),
    )
    assert _outcome(await _verify(chain)) == _bad(2, "broken_link")


@pytest.mark.parametrize("column", ["event_type", "case_id", "key_id", "event_id"])
async def test_any_edited_field_is_found(chain: Store, column: str) -> None:
    await tamper.execute(chain, (f"UPDATE audit_log SET {column} = 'x' WHERE seq = 5", {}))
    assert _outcome(await _verify(chain)) == _bad(5, "hash_mismatch")


async def test_edited_time_is_found(chain: Store) -> None:
    def edit(connection: Connection) -> None:
        tamper.lift_append_only(connection)
        # Through the column's type, so that each backend stores the time in its own format.
        edited = update(AuditEntry).where(AuditEntry.seq == 1)
        connection.execute(edited.values(occurred_at=T0.replace(microsecond=1)))

    await chain.write(edit)
    assert _outcome(await _verify(chain)) == _bad(1, "hash_mismatch")
