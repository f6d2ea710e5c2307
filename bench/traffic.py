"""Synthetic gateway traffic for the detection benchmarks: many owners, a few lent keys.

Each key has one or two home addresses in networks of its own and a TLS fingerprint from a
small pool of common clients (so each fingerprint is shared by far more accounts than
`shared_origin.max_accounts`, as popular libraries are). The labelled abusive and benign
patterns of the tests are mixed in, so the detectors have something to find.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import Engine, insert

from domain.detection.networks import network_of
from domain.gateway import KeyView, decide
from domain.keys import KeyStatus, Permission
from domain.network import normalise_whitelist
from store.models import AccessLogEntry, Account, ApiKey
from tests.detection.patterns import KeySpec, Pattern, ja4, labelled_patterns

ACCOUNTS_PER_CLIENT = 100  # twice shared_origin's default max_accounts


@dataclass(frozen=True)
class Population:
    keys: list[KeySpec]
    homes: dict[str, list[str]]  # key id -> its addresses
    clients: dict[str, str]  # key id -> its fingerprint
    patterns: list[Pattern]


def population(keys: int, start: datetime, seed: int = 7) -> Population:
    """`keys` owners (one account each), plus the labelled patterns starting at `start`."""
    rng = random.Random(seed)
    specs, homes, clients = [], {}, {}
    for n in range(keys):
        # Networks of their own: 10.x.y.0/24 per key, a second one for a third of them.
        ips = [f"10.{n // 250}.{n % 250}.{rng.randrange(1, 250)}"]
        if n % 3 == 0:
            ips.append(f"172.16.{n // 250}.{n % 250}")
        spec = KeySpec(f"bench-key-{n}", f"bench-acct-{n}", ips)
        specs.append(spec)
        homes[spec.key_id] = ips
        clients[spec.key_id] = ja4(1000 + n // ACCOUNTS_PER_CLIENT)
    return Population(specs, homes, clients, labelled_patterns(start, prefix="bench"))


def _views(population: Population) -> dict[str, KeyView]:
    specs = population.keys + [k for p in population.patterns for k in p.keys]
    return {
        k.key_id: KeyView(
            k.key_id,
            k.account_id,
            KeyStatus.ACTIVE,
            (Permission.READ, Permission.TRADE),
            tuple(normalise_whitelist(k.allowed_ips)),
        )
        for k in specs
    }


def rows(
    population: Population, first: datetime, span: timedelta, count: int, seed: int = 11
) -> Iterator[dict[str, Any]]:
    """`count` owner requests over [first, first + span) with the patterns mixed in, in order."""
    rng = random.Random(seed)
    views = _views(population)
    owners = [k.key_id for k in population.keys]
    step = span / max(count, 1)
    extra = sorted(
        (r for p in population.patterns for r in p.requests if first <= r.at < first + span),
        key=lambda r: r.at,
    )
    for n in range(count):
        at = first + step * n
        while extra and extra[0].at <= at:
            r = extra.pop(0)
            yield _row(views[r.key_id], r.key_id, r.ip, r.at, r.tls_fingerprint)
        key_id = rng.choice(owners)
        ip = rng.choice(population.homes[key_id])
        yield _row(views[key_id], key_id, ip, at, population.clients[key_id])
    for r in extra:
        yield _row(views[r.key_id], r.key_id, r.ip, r.at, r.tls_fingerprint)


def _row(view: KeyView, key_id: str, ip: str, at: datetime, tls: str | None) -> dict[str, Any]:
    decision = decide(view, ip, Permission.TRADE, at)
    return {
        "key_id": key_id,
        "account_id": view.account_id,
        "ip": decision.ip,
        "permission": "trade",
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "decided_at": at,
        "user_agent": "bench-client/1.0",
        "tls_fingerprint": tls,
        "network": network_of(decision.ip),
    }


def register_population(engine: Engine, people: Population, now: datetime) -> None:
    """Every account and key of the population and its patterns, straight into the registry."""
    specs = people.keys + [k for p in people.patterns for k in p.keys]
    with engine.begin() as c:
        c.execute(
            insert(Account),
            [
                {
                    "account_id": a,
                    "email": "owner@example.com",
                    "phone": "+821012345678",
                    "locale": "ko",
                    "created_at": now,
                    "updated_at": now,
                }
                for a in sorted({k.account_id for k in specs})
            ],
        )
        c.execute(
            insert(ApiKey),
            [
                {
                    "key_id": k.key_id,
                    "account_id": k.account_id,
                    "exchange": "upbit",
                    "permissions": ["read", "trade"],
                    "status": "ACTIVE",
                    "allowed_ips": k.allowed_ips,
                    "created_at": now,
                    "updated_at": now,
                }
                for k in specs
            ],
        )


def load_rows(engine: Engine, batch: Iterator[dict[str, Any]]) -> int:
    """Insert access-log rows in transactions of 10,000; how many there were."""
    total = 0
    while piece := list(islice(batch, 10_000)):
        with engine.begin() as c:
            c.execute(insert(AccessLogEntry), piece)
        total += len(piece)
    return total
