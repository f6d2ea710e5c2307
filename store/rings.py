"""Rings in the store: the links with their reasons, each account's ring, and the rings' index.

    routes = await store.write(lambda c: link_accounts(c, links, policy, now))

The workflow of each ring holds its members and decisions; these tables say which ring an
account belongs to (so that every link finds its ring), keep every link (the workflow keeps
the latest), and list rings for `GET /v1/rings`. Joining is decided by `domain.rings.joining`.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Index, Integer, String, func, select, tuple_, update
from sqlalchemy.orm import Mapped, mapped_column

from domain.rings.joining import joining, plan_rings
from domain.rings.links import Link
from domain.rings.policy import RingPolicy
from store.models import Base, UTCDateTime, insert_into


class RingLink(Base):
    """One link between two accounts, and why."""

    __tablename__ = "ring_links"
    __table_args__ = (Index("ix_ring_links_pair", "account_a", "account_b"),)

    link_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    key_a: Mapped[str] = mapped_column(String(100))
    account_a: Mapped[str] = mapped_column(String(100))
    key_b: Mapped[str] = mapped_column(String(100))
    account_b: Mapped[str] = mapped_column(String(100))
    origin: Mapped[str | None] = mapped_column(String(200))
    exchange: Mapped[str] = mapped_column(String(32))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ring(Base):
    """A ring as listed: its exchange, accounts, when it formed; `merged_into` once it ended."""

    __tablename__ = "rings"
    __table_args__ = (Index("ix_rings_listing", "exchange", "formed_at"),)

    ring_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    exchange: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    formed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    merged_into: Mapped[str | None] = mapped_column(String(64))


class RingAccount(Base):
    """The ring an account belongs to now."""

    __tablename__ = "ring_accounts"

    account_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    ring_id: Mapped[str] = mapped_column(String(64), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class RingRow:
    ring_id: str
    exchange: str
    size: int
    formed_at: datetime
    updated_at: datetime
    merged_into: str | None


@dataclass
class RingRoute:
    """What one ring's workflow must hear after a batch of links."""

    ring_id: str
    exchange: str
    links: list[Link] = field(default_factory=list)
    absorbed: list[str] = field(default_factory=list)  # rings merged into this one, in order


def link_accounts(
    connection: Connection, links: Sequence[Link], policy: RingPolicy, now: datetime
) -> list[RingRoute]:
    """Record the links, join accounts into rings as the policy says; which rings heard what."""
    if not links:
        return []
    _insert_links(connection, links, now)
    pairs = sorted({link.accounts for link in links})
    counts = _pair_counts(connection, pairs, policy)
    accounts = sorted({a for pair in pairs for a in pair})
    ring_of = _rings_of(connection, accounts)
    formed_at = _formed_at(connection, set(ring_of.values()))
    plan = plan_rings(joining(links, counts, policy), ring_of, formed_at, now)
    exchange = links[0].exchange
    for ring_id, at in plan.formed.items():
        connection.execute(
            insert_into(connection.dialect.name, Ring)
            .values(ring_id=ring_id, exchange=exchange, size=0, formed_at=at, updated_at=at)
            .on_conflict_do_nothing()
        )
    for absorbed in plan.merges:
        kept = plan.final(absorbed)
        connection.execute(
            update(RingAccount).where(RingAccount.ring_id == absorbed).values(ring_id=kept)
        )
        connection.execute(
            update(Ring)
            .where(Ring.ring_id == absorbed)
            .values(merged_into=kept, updated_at=now, size=0)
        )
    for account, ring_id in plan.joins.items():
        statement = insert_into(connection.dialect.name, RingAccount).values(
            account_id=account, ring_id=ring_id, joined_at=now
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["account_id"], set_={"ring_id": ring_id}
            )
        )
    ring_of = _rings_of(connection, accounts)
    routes: dict[str, RingRoute] = {}
    for link in links:
        ring_a, ring_b = ring_of.get(link.account_a), ring_of.get(link.account_b)
        if ring_a is not None and ring_a == ring_b:
            routes.setdefault(ring_a, RingRoute(ring_a, link.exchange)).links.append(link)
    for absorbed in plan.merges:
        kept = plan.final(absorbed)
        routes.setdefault(kept, RingRoute(kept, exchange)).absorbed.append(absorbed)
    for ring_id in routes:
        size = connection.scalar(
            select(func.count()).select_from(RingAccount).where(RingAccount.ring_id == ring_id)
        )
        connection.execute(
            update(Ring).where(Ring.ring_id == ring_id).values(size=size, updated_at=now)
        )
    return list(routes.values())


def ring_row(connection: Connection, ring_id: str) -> RingRow | None:
    """One ring's row, or None."""
    found = connection.execute(select(*_ROW).where(Ring.ring_id == ring_id)).first()
    return None if found is None else RingRow(*found)


def list_rings(
    connection: Connection,
    *,
    exchanges: frozenset[str] | None,
    exchange: str | None,
    min_size: int,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[RingRow]:
    """Rings still going, newest first; `after` is the last (formed_at, ring_id) of a page."""
    query = select(*_ROW).where(Ring.merged_into.is_(None), Ring.size >= min_size)
    if exchange is not None:
        query = query.where(Ring.exchange == exchange)
    if exchanges is not None:
        query = query.where(Ring.exchange.in_(sorted(exchanges)))
    if after is not None:
        query = query.where(tuple_(Ring.formed_at, Ring.ring_id) < tuple_(*after))
    query = query.order_by(Ring.formed_at.desc(), Ring.ring_id.desc()).limit(limit)
    return [RingRow(*row) for row in connection.execute(query)]


_ROW = (Ring.ring_id, Ring.exchange, Ring.size, Ring.formed_at, Ring.updated_at, Ring.merged_into)


def _insert_links(connection: Connection, links: Sequence[Link], now: datetime) -> None:
    rows = [{**link.model_dump(), "recorded_at": now} for link in links]
    statement = insert_into(connection.dialect.name, RingLink).values(rows)
    connection.execute(statement.on_conflict_do_nothing())


def _pair_counts(
    connection: Connection, pairs: list[tuple[str, str]], policy: RingPolicy
) -> dict[tuple[str, str], int]:
    query = (
        select(RingLink.account_a, RingLink.account_b, func.count())
        .where(
            tuple_(RingLink.account_a, RingLink.account_b).in_(pairs),
            RingLink.kind.in_(policy.kinds),
        )
        .group_by(RingLink.account_a, RingLink.account_b)
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for account_a, account_b, n in connection.execute(query):
        counts[(account_a, account_b)] = n
    return counts


def _rings_of(connection: Connection, accounts: list[str]) -> dict[str, str]:
    query = select(RingAccount.account_id, RingAccount.ring_id).where(
        RingAccount.account_id.in_(accounts)
    )
    return {account: ring for account, ring in connection.execute(query)}


def _formed_at(connection: Connection, ring_ids: set[str]) -> dict[str, datetime]:
    if not ring_ids:
        return {}
    query = select(Ring.ring_id, Ring.formed_at).where(Ring.ring_id.in_(sorted(ring_ids)))
    return {ring_id: at for ring_id, at in connection.execute(query)}
