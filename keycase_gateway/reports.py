"""Reporting a replica's decisions back to keycase, in batches, each recorded once."""

import asyncio
import logging
import uuid
from typing import Any

import httpx

from keycase_gateway.replica import Decided, Replica

log = logging.getLogger(__name__)

MAX_BATCH = 5000  # keycase's limit for one report (api.feed_schemas.MAX_REPORTED)


def _decision(decided: Decided) -> dict[str, Any]:
    key_id, ip, permission, allowed, reason, decided_at = decided
    return {
        "key_id": key_id[:100],  # as the access log keeps them
        "ip": ip[:64] or "-",
        "permission": permission,
        "allowed": allowed,
        "reason": reason,
        "decided_at": decided_at.isoformat(),
    }


async def send_batch(http: httpx.AsyncClient, replica: Replica) -> int:
    """Take up to MAX_BATCH queued decisions off the replica and report them; how many.

    The batch keeps its id until keycase has answered, so a resend after a lost answer is
    recorded once; decisions made meanwhile queue behind it.
    """
    count = min(MAX_BATCH, len(replica.unreported))
    if not count:
        return 0
    batch = [_decision(replica.unreported.popleft()) for _ in range(count)]
    body = {"batch_id": uuid.uuid4().hex, "decisions": batch}
    while True:
        try:
            response = await http.post("/v1/access-reports", json=body, timeout=10.0)
            response.raise_for_status()
            return count
        except httpx.HTTPStatusError as error:
            if error.response.status_code < 500:
                # Resending cannot make it acceptable; keep the rest flowing.
                log.error("keycase refused %d reported decisions: %s", count, error)
                return count
            log.warning("decision report failed; resending", exc_info=True)
        except httpx.HTTPError:
            log.warning("decision report failed; resending", exc_info=True)
        await asyncio.sleep(1.0)


async def report(http: httpx.AsyncClient, replica: Replica, interval: float) -> None:
    """Report decisions every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        while await send_batch(http, replica) == MAX_BATCH:
            pass
