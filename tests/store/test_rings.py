"""Links join accounts into rings in the store, as the policy says (both backends)."""

from datetime import UTC, datetime, timedelta

from domain.rings.links import Link, link_id_for
from domain.rings.policy import LinkKind, RingPolicy
from store.port import Store
from store.rings import link_accounts, list_rings, ring_row

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def link(source: str, a: str, b: str, kind: LinkKind = "shared_origin") -> Link:
    ends = sorted([(f"acct-{a}", f"key-{a}"), (f"acct-{b}", f"key-{b}")])
    (acct_a, key_a), (acct_b, key_b) = ends
    return Link(
        link_id=link_id_for(source, key_a, key_b),
        kind=kind,
        source_id=source,
        key_a=key_a,
        account_a=acct_a,
        key_b=key_b,
        account_b=acct_b,
        origin="ip:203.0.113.7",
        exchange="upbit",
        observed_at=T0,
    )


async def test_links_form_a_ring_that_grows_and_keeps_its_id(store: Store) -> None:
    policy = RingPolicy()
    first = await store.write(lambda c: link_accounts(c, [link("h1", "a", "b")], policy, T0))
    (formed,) = first
    grown = await store.write(
        lambda c: link_accounts(c, [link("h2", "b", "c")], policy, T0 + timedelta(minutes=1))
    )

    assert [r.ring_id for r in grown] == [formed.ring_id]
    row = await store.read(lambda c: ring_row(c, formed.ring_id))
    assert row is not None and row.size == 3 and row.formed_at == T0


async def test_a_repeated_link_changes_nothing(store: Store) -> None:
    policy = RingPolicy()
    await store.write(lambda c: link_accounts(c, [link("h1", "a", "b")], policy, T0))
    again = await store.write(lambda c: link_accounts(c, [link("h1", "a", "b")], policy, T0))

    (route,) = again
    row = await store.read(lambda c: ring_row(c, route.ring_id))
    assert row is not None and row.size == 2 and not route.absorbed


async def test_two_rings_joined_merge_into_the_older(store: Store) -> None:
    policy = RingPolicy()
    (older,) = await store.write(lambda c: link_accounts(c, [link("h1", "a", "b")], policy, T0))
    later = T0 + timedelta(hours=1)
    cd, bc = [link("h2", "c", "d")], [link("h3", "b", "c")]
    (younger,) = await store.write(lambda c: link_accounts(c, cd, policy, later))
    (merged,) = await store.write(lambda c: link_accounts(c, bc, policy, later))

    assert merged.ring_id == older.ring_id and merged.absorbed == [younger.ring_id]
    kept = await store.read(lambda c: ring_row(c, older.ring_id))
    ended = await store.read(lambda c: ring_row(c, younger.ring_id))
    assert kept is not None and kept.size == 4
    assert ended is not None and ended.merged_into == older.ring_id
    listed = await store.read(
        lambda c: list_rings(c, exchanges=None, exchange="upbit", min_size=2, after=None, limit=10)
    )
    assert [r.ring_id for r in listed] == [older.ring_id]


async def test_the_policy_decides_how_many_links_and_which_kinds_make_a_ring(store: Store) -> None:
    policy = RingPolicy(min_links=2, kinds=("shared_origin",))
    once = await store.write(lambda c: link_accounts(c, [link("h1", "a", "b")], policy, T0))
    other_kind = await store.write(
        lambda c: link_accounts(c, [link("s1", "a", "b", "related_keys")], policy, T0)
    )
    twice = await store.write(lambda c: link_accounts(c, [link("h2", "a", "b")], policy, T0))

    assert once == [] and other_kind == []
    (ring,) = twice
    assert {x.source_id for x in ring.links} == {"h2"}
