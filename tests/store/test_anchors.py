"""Anchors catch what the chain alone cannot: a cut tail, a whole rewrite, a forged anchor."""

from datetime import timedelta
from functools import partial

import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from config.signing import sign_head, signature_checker
from store.anchors import (
    ChainVerification,
    anchors_jsonl,
    parse_anchors_jsonl,
    publish_anchor,
    stored_anchors,
    verify_anchored,
)
from store.audit import GENESIS, append_facts, canonical_json
from store.models import AuditEntry
from store.port import Store
from tests.store import tamper
from tests.store.factories import T0, fact

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _signer(key: Ed25519PrivateKey, reason: str = "schedule"):  # type: ignore[no-untyped-def]
    return lambda seq, row_hash, at: sign_head(key, seq, row_hash, at, reason)


@pytest_asyncio.fixture
async def anchored(store: Store) -> Store:
    """Five rows anchored at seq 3 and at seq 5."""
    await store.write(lambda c: append_facts(c, [fact(f"e{i}", step=i) for i in (1, 2, 3)], T0))
    await store.write(lambda c: publish_anchor(c, _signer(KEY), T0))
    await store.write(lambda c: append_facts(c, [fact(f"e{i}", step=i) for i in (4, 5)], T0))
    await store.write(lambda c: publish_anchor(c, _signer(KEY), T0 + timedelta(hours=1)))
    return store


async def _verify(store: Store, **kwargs: object) -> ChainVerification:
    ok = signature_checker(KEY.public_key())
    return await store.scan(partial(verify_anchored, signature_ok=ok, **kwargs))  # type: ignore[arg-type]


async def test_untouched_chain_matches_its_anchors(anchored: Store) -> None:
    report = await _verify(anchored)
    assert (report.ok, report.rows_checked, report.anchors_checked) == (True, 5, 2)
    assert report.first_bad_anchor is None


async def test_publishing_again_without_new_rows_adds_no_anchor(anchored: Store) -> None:
    again = await anchored.write(lambda c: publish_anchor(c, _signer(KEY), T0 + timedelta(days=1)))
    anchors = await anchored.read(stored_anchors)
    assert [a.chain_seq for a in anchors] == [3, 5]
    assert again == anchors[-1]


async def test_deleted_tail_is_found_by_the_anchor_past_the_end(anchored: Store) -> None:
    await tamper.execute(anchored, ("DELETE FROM audit_log WHERE seq >= 4", {}))
    report = await _verify(anchored)
    assert report.rows_checked == 3 and report.first_bad_row is None  # the chain alone is fine
    assert (report.ok, report.first_bad_anchor, report.anchor_problem) == (
        False,
        5,
        "missing_tail",
    )
    assert report.first_bad_anchored_at == T0 + timedelta(hours=1)


async def test_whole_chain_rewritten_with_fresh_hashes_is_found(anchored: Store) -> None:
    rows = await anchored.read(
        lambda c: [r._asdict() for r in c.execute(select(*AuditEntry.__table__.c))]
    )
    updates = []
    prev = GENESIS
    for row in sorted(rows, key=lambda r: r["seq"]):
        if row["seq"] == 2:
            row["payload"] = canonical_json({"step": 20})
        row["prev_hash"] = prev
        row["row_hash"] = prev = tamper.forged_hash(row)
        sql = "UPDATE audit_log SET payload = :p, prev_hash = :ph, row_hash = :h WHERE seq = :s"
        params = {"p": row["payload"], "ph": row["prev_hash"], "h": row["row_hash"]}
        updates.append((sql, {**params, "s": row["seq"]}))
    await tamper.execute(anchored, *updates)

    report = await _verify(anchored)
    assert report.first_bad_row is None  # every link checks: only an anchor can tell
    assert (report.ok, report.first_bad_anchor, report.anchor_problem) == (False, 3, "rewritten")


async def test_anchor_signed_without_the_key_is_found(anchored: Store) -> None:
    await anchored.write(lambda c: append_facts(c, [fact("e6", step=6)], T0))
    forger = Ed25519PrivateKey.generate()
    await anchored.write(lambda c: publish_anchor(c, _signer(forger), T0 + timedelta(hours=2)))
    report = await _verify(anchored)
    assert (report.ok, report.first_bad_anchor, report.anchor_problem) == (
        False,
        6,
        "forged_signature",
    )


async def test_anchor_with_an_edited_hash_fails_its_signature(anchored: Store) -> None:
    exported = parse_anchors_jsonl(anchors_jsonl(await anchored.read(stored_anchors)))
    edited = [exported[0].model_copy(update={"row_hash": "f" * 64}), exported[1]]
    report = await _verify(anchored, anchors=edited)
    assert (report.first_bad_anchor, report.anchor_problem) == (3, "forged_signature")


async def test_anchors_file_still_finds_a_cut_tail_after_the_table_is_emptied(
    anchored: Store,
) -> None:
    kept = parse_anchors_jsonl(anchors_jsonl(await anchored.read(stored_anchors)))

    def cut(connection):  # type: ignore[no-untyped-def]
        tamper.lift_append_only(connection)
        if connection.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_anchors DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_anchors_no_delete"))
        connection.execute(text("DELETE FROM audit_anchors"))
        connection.execute(text("DELETE FROM audit_log WHERE seq = 5"))

    await anchored.write(cut)
    assert (await _verify(anchored)).ok  # nothing in the database shows it any more
    report = await _verify(anchored, anchors=kept)
    assert (report.ok, report.first_bad_anchor, report.anchor_problem) == (
        False,
        5,
        "missing_tail",
    )


async def test_anchors_table_is_append_only(anchored: Store) -> None:
    async def attempt(sql: str) -> bool:
        try:
            await anchored.write(lambda c: c.execute(text(sql)))
        except Exception:
            return False
        return True

    assert not await attempt("DELETE FROM audit_anchors")
    assert not await attempt("UPDATE audit_anchors SET row_hash = 'x'")
    assert len(await anchored.read(stored_anchors)) == 2
