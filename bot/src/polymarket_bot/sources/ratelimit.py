"""One token bucket shared by every call to an upstream, so N targets cannot add up to a ban.

Polymarket's Data API allows 1,000 requests per 10 s (Cloudflare delays rather than rejects past
it). A bucket of capacity C refilled at C per window lets at most 2·C through in any window (a
full bucket plus one window of refill), so the default C = 500 stays under the published limit
even in the worst burst.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

_EPSILON = 1e-9


class TokenBucket:
    def __init__(self, requests: int = 500, per_seconds: float = 10.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if requests <= 0 or per_seconds <= 0:
            raise ValueError("a rate limit needs requests > 0 and per_seconds > 0")
        self.capacity = float(requests)
        self.rate = requests / per_seconds  # tokens per second
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.waited = 0.0  # total seconds callers spent waiting (for the benchmark)
        self.acquired = 0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def pause(self, seconds: float) -> None:
        """Hold every caller for `seconds` (a 429 applies to the whole IP, not to one target)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def delay(self) -> float:
        """Seconds the next `acquire` would wait now (0 if a token is ready)."""
        now = self._clock()
        self._refill(now)
        wait = max(0.0, self._paused_until - now)
        if self._tokens < 1 - _EPSILON:  # float refill lands a hair under 1: that is a token
            wait = max(wait, (1 - self._tokens) / self.rate)
        return wait

    async def acquire(self) -> None:
        # the lock makes waiters first-come first-served: nobody starves behind a burst
        async with self._lock:
            while True:
                wait = self.delay()
                if wait <= 0:
                    self._tokens -= 1
                    self.acquired += 1
                    return
                self.waited += wait
                await self._sleep(wait)
