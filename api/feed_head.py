"""The change feed's head as this API process last saw it, for long-polling gateways.

Changes are written by any process (the worker expires keys, any API replica changes
whitelists), so the head is polled from the store: by one task, only while some request
waits, every `interval` seconds, however many gateways wait.
"""

import asyncio
import logging
from contextlib import suppress

from store.port import Store
from store.registry import feed_head

log = logging.getLogger(__name__)
POLL_SECONDS = 0.05  # a change reaches a waiting gateway within this, plus its round trip


class FeedHead:
    """Wait for the feed to pass a cursor, sharing one poll of the store among waiters."""

    def __init__(self, store: Store, interval: float = POLL_SECONDS) -> None:
        self._store = store
        self._interval = interval
        self._head = 0
        self._moved = asyncio.Event()
        self._waiters = 0
        self._poller: asyncio.Task[None] | None = None

    async def wait_past(self, cursor: int, seconds: float) -> None:
        """Return once the head is past `cursor`, or after `seconds`."""
        self._waiters += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll(), name="feed-head")
        try:
            async with asyncio.timeout(seconds):
                while self._head <= cursor:
                    moved = self._moved
                    await moved.wait()
        except TimeoutError:
            pass
        finally:
            self._waiters -= 1

    async def close(self) -> None:
        """Stop polling."""
        if self._poller is not None:
            self._poller.cancel()
            with suppress(asyncio.CancelledError):
                await self._poller

    async def _poll(self) -> None:
        while self._waiters:
            try:
                head = await self._store.read(feed_head)
            except Exception:  # the store is away: waiters time out, the next poll retries
                log.warning("change feed head unreadable", exc_info=True)
                head = self._head
            if head != self._head:
                self._head = head
                # Wake every waiter; each checks against its own cursor.
                self._moved.set()
                self._moved = asyncio.Event()
            await asyncio.sleep(self._interval)
