"""The gateway client: a replica kept fresh by the feed, its decisions reported back."""

import asyncio
from contextlib import suppress
from datetime import datetime
from types import TracebackType

import httpx

from domain.gateway import GatewayDecision
from domain.keys import Permission
from keycase_gateway.feed import follow
from keycase_gateway.replica import Replica
from keycase_gateway.reports import Reporter


class GatewayClient:
    """`async with GatewayClient(url, token) as keycase: keycase.decide(...)`.

    `staleness`: seconds without an answer from keycase after which every decision is a
    denial (`replica_stale`); a long poll waits a quarter of it, so a healthy feed never
    comes near. `report_every`: seconds between decision reports.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        staleness: float = 5.0,
        report_every: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.replica = Replica(staleness)
        self._report_every = report_every
        headers = {"Authorization": f"Bearer {token}"}
        # Two clients: a long poll never holds up a report, nor a report the feed.
        self._feed_http = httpx.AsyncClient(base_url=base_url, headers=headers, transport=transport)
        self._report_http = httpx.AsyncClient(
            base_url=base_url, headers=headers, transport=transport
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._caught_up = asyncio.Event()
        self._reporter = Reporter(self._report_http, self.replica)

    def decide(
        self, key_id: str, ip: str, permission: Permission, now: datetime | None = None
    ) -> GatewayDecision:
        """May the key be used from `ip` for `permission`? Decided in process, reported later."""
        return self.replica.decide(key_id, ip, permission, now)

    async def start(self) -> None:
        """Start following the feed and reporting."""
        wait = self.replica.staleness / 4
        self._tasks = [
            asyncio.create_task(
                follow(self._feed_http, self.replica, wait, self._caught_up), name="keycase-feed"
            ),
            asyncio.create_task(self._reporter.run(self._report_every), name="keycase-report"),
        ]

    async def wait_caught_up(self, seconds: float) -> None:
        """Return once the replica holds the whole feed; TimeoutError after `seconds`."""
        async with asyncio.timeout(seconds):
            await self._caught_up.wait()

    async def close(self, report_timeout: float = 5.0) -> None:
        """Stop following, report what is queued (for at most `report_timeout`), close."""
        for task in self._tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        with suppress(TimeoutError):
            async with asyncio.timeout(report_timeout):
                while await self._reporter.send():
                    pass
        await self._feed_http.aclose()
        await self._report_http.aclose()

    async def __aenter__(self) -> "GatewayClient":
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
