"""The replica: keys' gateway views by id, how fresh they are, and the decisions made."""

import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from domain.gateway import GatewayDecision, GatewayReason, KeyView, decide
from domain.keys import Permission

# A decision as reported: key_id, ip (as matched), permission, allowed, reason, decided_at.
Decided = tuple[str, str, str, bool, str, datetime]


class Replica:
    """Keys as keycase's feed last said, deciding like `authorize` while fresh enough.

    Fresh means keycase answered a feed request within `staleness` seconds (monotonic
    clock); before the first answer, and past the bound, every decision is a denial with
    reason `replica_stale`. Decisions queue for the reporter; beyond `max_unreported` the
    oldest are dropped and counted.
    """

    def __init__(
        self,
        staleness: float,
        max_unreported: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.staleness = staleness
        self.cursor = 0
        self.keys: dict[str, KeyView] = {}
        self.unreported: deque[Decided] = deque()
        self.dropped = 0
        self._max_unreported = max_unreported
        self._clock = clock
        self._heard_at: float | None = None

    def apply(self, views: Iterable[KeyView], cursor: int, reset: bool = False) -> None:
        """Take a page of the feed (each key's view after its change) and its cursor."""
        if reset:
            self.keys.clear()
        for view in views:
            self.keys[view.key_id] = view
        self.cursor = cursor

    def heard(self, at: float | None = None) -> None:
        """keycase answered a feed request (at `at`, on the monotonic clock; default now)."""
        self._heard_at = self._clock() if at is None else at

    def stale_for(self) -> float | None:
        """Seconds past the staleness bound (None while fresh); inf before the first answer."""
        if self._heard_at is None:
            return float("inf")
        over = self._clock() - self._heard_at - self.staleness
        return over if over > 0 else None

    def decide(
        self, key_id: str, ip: str, permission: Permission, now: datetime | None = None
    ) -> GatewayDecision:
        """keycase's answer to `authorize`, from the replica; queued for the access log."""
        now = now or datetime.now(UTC)
        if self._heard_at is None or self._clock() - self._heard_at > self.staleness:
            decision = GatewayDecision(False, GatewayReason.REPLICA_STALE, ip)
        else:
            decision = decide(self.keys.get(key_id), ip, permission, now)
        if len(self.unreported) >= self._max_unreported:
            self.unreported.popleft()
            self.dropped += 1
        self.unreported.append(
            (key_id, decision.ip, permission.value, decision.allowed, decision.reason.value, now)
        )
        return decision
