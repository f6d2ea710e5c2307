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


class Reporter:
    """Sends a replica's decisions, one batch at a time, each until keycase has it.

    The batch being sent keeps its id until keycase has answered, also across a cancelled
    send (the next `send` resends it), so a resend after a lost answer is recorded once.
    """

    def __init__(self, http: httpx.AsyncClient, replica: Replica) -> None:
        self._http = http
        self._replica = replica
        self._batch: dict[str, Any] | None = None

    async def send(self) -> int:
        """Report the batch in hand, or the next from the queue; how many decisions it held."""
        if self._batch is None:
            queued = self._replica.unreported
            count = min(MAX_BATCH, len(queued))
            if not count:
                return 0
            decisions = [_decision(queued.popleft()) for _ in range(count)]
            self._batch = {"batch_id": uuid.uuid4().hex, "decisions": decisions}
        count = len(self._batch["decisions"])
        while True:
            try:
                response = await self._http.post("/v1/access-reports", json=self._batch, timeout=10)
                response.raise_for_status()
                break
            except httpx.HTTPStatusError as error:
                if error.response.status_code < 500:
                    # Resending cannot make it acceptable; keep the rest flowing.
                    log.error("keycase refused %d reported decisions: %s", count, error)
                    break
                log.warning("decision report failed; resending", exc_info=True)
            except httpx.HTTPError:
                log.warning("decision report failed; resending", exc_info=True)
            await asyncio.sleep(1.0)
        self._batch = None
        return count

    async def run(self, interval: float) -> None:
        """Report decisions every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            while await self.send() == MAX_BATCH:
                pass
