"""Which ring each linked account belongs to: connected components, grown one link at a time.

Pure: the store reads the accounts' rings and the links between them, this decides, the store
writes what it decided in the same transaction.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.rings.links import Link, ring_id_for
from domain.rings.policy import RingPolicy


@dataclass
class RingPlan:
    """What a batch of links does to the rings."""

    joins: dict[str, str] = field(default_factory=dict)  # account -> ring it joins
    formed: dict[str, datetime] = field(default_factory=dict)  # new ring -> formed at
    merges: dict[str, str] = field(default_factory=dict)  # absorbed ring -> the one that continues

    def final(self, ring_id: str) -> str:
        """The ring that `ring_id` continues as, after this plan's merges."""
        while ring_id in self.merges:
            ring_id = self.merges[ring_id]
        return ring_id


def joining(
    links: Iterable[Link], counts: Mapping[tuple[str, str], int], policy: RingPolicy
) -> list[Link]:
    """The links whose two accounts are now one ring: enough links of the kinds that count.

    `counts` are the links of those kinds between each pair so far, these included."""
    return [
        link
        for link in links
        if link.kind in policy.kinds and counts.get(link.accounts, 0) >= policy.min_links
    ]


def plan_rings(
    joined: Sequence[Link],
    ring_of: Mapping[str, str],
    formed_at: Mapping[str, datetime],
    now: datetime,
) -> RingPlan:
    """Join each link's accounts: a new ring, one joining the other's, or two rings merging.

    `ring_of` holds the current ring of the accounts involved, `formed_at` those rings'
    formation times. Of two merging rings the older continues (ties: the smaller id)."""
    plan = RingPlan()
    rings = dict(ring_of)
    formed = dict(formed_at)

    def current(account: str) -> str | None:
        ring = rings.get(account)
        return None if ring is None else plan.final(ring)

    for link in joined:
        a, b = link.accounts
        ring_a, ring_b = current(a), current(b)
        if ring_a is None and ring_b is None:
            ring = ring_id_for(link)
            formed[ring] = plan.formed[ring] = now
            rings[a] = rings[b] = plan.joins[a] = plan.joins[b] = ring
        elif ring_a is None or ring_b is None:
            known = ring_a or ring_b
            assert known is not None
            newcomer = a if ring_a is None else b
            rings[newcomer] = plan.joins[newcomer] = known
        elif ring_a != ring_b:
            kept, absorbed = sorted((ring_a, ring_b), key=lambda r: (formed[r], r))
            plan.merges[absorbed] = kept
    plan.joins = {account: plan.final(ring) for account, ring in plan.joins.items()}
    return plan
