"""Following keycase's change feed into a replica: long-polls, in order, never skipping."""

import asyncio
import logging
from datetime import datetime
from typing import Any

import httpx

from domain.gateway import KeyView
from domain.keys import KeyStatus, Permission
from keycase_gateway.replica import Replica

log = logging.getLogger(__name__)

FIRST_RETRY, LAST_RETRY = 0.1, 2.0  # seconds between attempts while keycase is away


def view_of(key: dict[str, Any]) -> KeyView:
    """A key of the feed's JSON as the gateway rule reads it."""
    expires_at = key["expires_at"]
    return KeyView(
        key_id=key["key_id"],
        account_id=key["account_id"],
        status=KeyStatus(key["status"]),
        permissions=tuple(Permission(p) for p in key["permissions"]),
        allowed_ips=tuple(key["allowed_ips"]),
        expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
        exchange=key["exchange"],
    )


async def poll_once(http: httpx.AsyncClient, replica: Replica, wait: float) -> bool:
    """One feed request applied to the replica; True if more is ready at once."""
    started = asyncio.get_running_loop().time()
    response = await http.get(
        "/v1/keys/changes",
        params={"since": replica.cursor, "wait": wait},
        timeout=wait + 10.0,
    )
    response.raise_for_status()
    page = response.json()
    replica.apply((view_of(c["key"]) for c in page["changes"]), page["cursor"], page["reset"])
    # Fresh as of when the request was sent (the loop's clock is the monotonic one): the
    # server's answer covers every change committed before then.
    replica.heard(started)
    return bool(page["more"])


async def follow(
    http: httpx.AsyncClient, replica: Replica, wait: float, caught_up: asyncio.Event
) -> None:
    """Keep the replica up to date until cancelled; retries with backoff while keycase is away.

    `caught_up` is set once the replica holds the whole feed.
    """
    pause = FIRST_RETRY
    while True:
        try:
            # The first page at once (a fresh replica is stale until it has one), then wait.
            more = await poll_once(http, replica, wait if caught_up.is_set() else 0)
            while more:
                more = await poll_once(http, replica, 0)
            caught_up.set()
        except (httpx.HTTPError, ValueError, KeyError):
            log.warning("keycase change feed unreachable; retrying in %.1fs", pause, exc_info=True)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_RETRY)
        else:
            pause = FIRST_RETRY
