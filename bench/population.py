"""Accounts, keys and alerts for benchmarks, registered through the API like an exchange would."""

import itertools
import uuid
from dataclasses import dataclass

from bench.loadgen import Request, closed_loop

_run = uuid.uuid4().hex[:6]
_numbers = itertools.count()


@dataclass(frozen=True)
class BenchKey:
    key_id: str
    account_id: str
    exchange: str


EXCHANGES = ("upbit", "bithumb", "coinone", "korbit", "gopax")


def new_keys(scenario: str, count: int) -> list[BenchKey]:
    """`count` fresh key identities for `scenario`, spread over the five exchanges."""
    keys = []
    for n in range(count):
        serial = next(_numbers)
        keys.append(
            BenchKey(
                key_id=f"bench-{scenario}-{_run}-{serial}",
                account_id=f"bench-acct-{_run}-{serial}",
                exchange=EXCHANGES[n % len(EXCHANGES)],
            )
        )
    return keys


async def register(api_url: str, admin_token: str, keys: list[BenchKey]) -> None:
    """Register every key's account and the key itself (whitelisted for 198.51.100.0/24)."""
    requests = []
    for n, key in enumerate(keys):
        requests.append(
            Request(
                "POST",
                "/v1/accounts",
                {
                    "account_id": key.account_id,
                    "email": f"owner-{key.account_id}@example.com",
                    "phone": f"+8210{n % 100_000_000:08d}",
                    "locale": "ko",
                },
            )
        )
        requests.append(
            Request(
                "POST",
                "/v1/keys",
                {
                    "key_id": key.key_id,
                    "account_id": key.account_id,
                    "exchange": key.exchange,
                    "permissions": ["read", "trade", "withdraw"],
                    "allowed_ips": ["198.51.100.0/24"],
                },
            )
        )
    # Accounts before keys: one connection keeps each key right after its account.
    result = await closed_loop(api_url, admin_token, requests.__getitem__, len(requests), 1)
    bad = {s: c for s, c in result.statuses.items() if s >= 300}
    if bad:
        raise RuntimeError(f"registration failed: {bad}")
