"""The shared token bucket, on a clock we step by hand (no sleeping, no timing asserts)."""

from __future__ import annotations

import asyncio

import pytest

from polymarket_bot.sources import TokenBucket


class Clock:
    """Virtual time: `sleep` advances it instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def bucket(clock: Clock, requests: int = 5, per: float = 1.0) -> TokenBucket:
    return TokenBucket(requests, per, clock=clock, sleep=clock.sleep)


async def test_a_full_bucket_lets_a_burst_through_then_paces_at_the_rate() -> None:
    clock = Clock()
    limiter = bucket(clock)
    for _ in range(5):
        await limiter.acquire()
    assert clock.sleeps == []
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.2)]  # 5 per second: one token every 0.2 s
    for _ in range(10):
        await limiter.acquire()
    assert clock.now - 1000.0 == pytest.approx(2.2)
    assert limiter.acquired == 16


async def test_no_window_ever_sees_more_than_twice_the_capacity() -> None:
    clock = Clock()
    limiter = bucket(clock, requests=50, per=10.0)
    times = []
    for _ in range(400):
        await limiter.acquire()
        times.append(clock.now)
    for i, started in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < started + 10.0)
        assert in_window <= 100


async def test_tokens_refill_while_idle_but_never_beyond_capacity() -> None:
    clock = Clock()
    limiter = bucket(clock)
    for _ in range(5):
        await limiter.acquire()
    clock.now += 60  # a long idle period
    for _ in range(5):
        await limiter.acquire()
    assert clock.sleeps == []
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.2)]


async def test_pause_holds_everyone_after_a_429() -> None:
    clock = Clock()
    limiter = bucket(clock)
    limiter.pause(3.0)
    assert limiter.delay() == pytest.approx(3.0)
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(3.0)]
    await limiter.acquire()  # tokens were there all along
    assert len(clock.sleeps) == 1


async def test_concurrent_callers_share_one_budget() -> None:
    clock = Clock()
    limiter = bucket(clock, requests=10, per=1.0)
    await asyncio.gather(*(limiter.acquire() for _ in range(30)))
    assert limiter.acquired == 30
    assert clock.now - 1000.0 == pytest.approx(2.0)  # 10 at once, then 20 more at 10 per second


@pytest.mark.parametrize(("requests", "per"), [(0, 10.0), (5, 0.0), (-1, 1.0)])
def test_a_nonsense_limit_is_refused(requests: int, per: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(requests, per)
