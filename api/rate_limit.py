"""Per-token rate limits (token buckets) on the hot endpoints: 429 with Retry-After.

Checked before the route does anything, so a refused call has done nothing at all."""

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import Request

from api.auth import Principal
from api.deps import Caller
from api.errors import ApiError


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class RateLimit:
    """`rate` calls a second per caller, bursts of up to `burst`; rate 0 means no limit."""

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[Principal, _Bucket] = field(default_factory=dict)

    def wait_for(self, caller: Principal) -> float:
        """0 when `caller` may go now (and the call is counted), else seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.setdefault(caller, _Bucket(float(self.burst), now))
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def limited(name: str) -> Callable[..., Awaitable[None]]:
    """A route dependency applying `app.state.rate_limits[name]` to the caller."""

    async def check(request: Request, caller: Caller) -> None:
        limits: dict[str, RateLimit] = request.app.state.rate_limits
        wait = limits[name].wait_for(caller)
        if wait > 0:
            retry = str(max(1, math.ceil(wait)))
            message = f"too many calls; retry in {retry}s"
            raise ApiError(429, "rate_limited", message, {"Retry-After": retry})

    return check
