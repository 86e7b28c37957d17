"""Crashes around the commit, with cursors and fills in SQLite: never lost, never twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sources_helpers import (
    DAY,
    TARGETS_ALL,
    SqliteStore,
    chain_source,
    confirmed_matches,
    data_source,
    inject,
    load_markets,
)

from polymarket_bot.models import TargetFill
from polymarket_bot.sources import FillStream, build_sources
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration


def stream(sim: RunningSim, store: SqliteStore) -> FillStream:
    sources = build_sources("both", data_api=data_source(sim, store),
                            chain=chain_source(sim, store))
    return FillStream(sources, store)


async def until_some(fills_of: FillStream, expected: int) -> list[TargetFill]:
    """Poll without committing until a poll returns `expected` fills (both sources caught up)."""
    for _ in range(200):
        fills = await fills_of.poll(TARGETS_ALL)
        if len(fills) >= expected:
            return fills
        await asyncio.sleep(0.05)
    raise AssertionError("fills never arrived")


async def test_crashes_around_the_commit_lose_nothing_and_double_nothing(
        sim: RunningSim, tmp_path: Path) -> None:
    load_markets(sim)
    path = str(tmp_path / "state.sqlite")
    store = SqliteStore(path)
    first = stream(sim, store)
    assert await first.poll(TARGETS_ALL) == []
    first.commit()
    await first.aclose()
    for trade in DAY[:2]:
        inject(sim, *trade)
    confirmed_matches(sim, 2)

    # crash 1: detected, then killed before the fills were stored
    crashed = stream(sim, store)
    detected = await until_some(crashed, 2)
    await crashed.aclose()
    store.close()

    # crash 2: restarted, detected again, stored, killed before the cursors moved
    store = SqliteStore(path)
    again = stream(sim, store)
    redetected = await until_some(again, 2)
    assert {f.key for f in redetected} == {f.key for f in detected}
    store.record(redetected)
    await again.aclose()
    store.close()

    # restart 3: the sources re-read the same fills, the store knows them: nothing new
    store = SqliteStore(path)
    final = stream(sim, store)
    try:
        for _ in range(3):
            assert await final.poll(TARGETS_ALL) == []
            final.commit()
        assert sum(final.stats.confirmed.values()) >= 2
        inject(sim, *DAY[3])
        confirmed_matches(sim, 3)
        fresh = await until_some(final, 1)
        assert len(fresh) == 1 and fresh[0].key not in {f.key for f in detected}
    finally:
        await final.aclose()
        store.close()
