"""Detection under a flaky upstream and after downtime: no fill on doubt, none lost, none twice."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sources_helpers import (
    DAY,
    TARGETS_ALL,
    chain_source,
    clear_faults,
    collect,
    confirmed_matches,
    data_source,
    fault,
    inject,
    load_markets,
    stall,
    start,
    token,
)

from polymarket_bot.sources import MemoryCursorStore
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration

FAULTS: list[dict[str, Any]] = [
    {"kind": "status", "status": 429},
    {"kind": "status", "status": 500},
    {"kind": "status", "status": 503},
    {"kind": "timeout", "hang": 3},
    {"kind": "garbage"},
    {"kind": "reset"},
]


def _name(spec: dict[str, Any]) -> str:
    return f"{spec['kind']}{spec.get('status', '')}"


@pytest.mark.parametrize("spec", FAULTS, ids=_name)
async def test_activity_faults_give_no_fills_keep_the_cursor_and_recover(
        sim: RunningSim, spec: dict[str, Any]) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    source = data_source(sim, store, timeout=0.5)
    try:
        await start(source, TARGETS_ALL)
        inject(sim, *DAY[0])
        confirmed_matches(sim, 1)
        cursors = dict(store.cursors)
        fault(sim, service="data", route="/activity", **spec)
        for _ in range(2):
            assert await source.poll(TARGETS_ALL) == []
            source.commit()
        assert source.errors >= len(TARGETS_ALL)
        assert store.cursors == cursors
        assert set(source.last_report.failed) == set(TARGETS_ALL)
        clear_faults(sim)
        fills = await collect(source, TARGETS_ALL, 1)
    finally:
        await source.aclose()
    assert fills[0].tx_hash == confirmed_matches(sim, 1)[0]["tx_hash"]
    assert store.cursors != cursors


@pytest.mark.parametrize("spec", FAULTS, ids=_name)
async def test_get_logs_faults_give_no_fills_keep_the_cursor_and_recover(
        sim: RunningSim, spec: dict[str, Any]) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    source = chain_source(sim, store, timeout=0.5)
    try:
        await start(source, TARGETS_ALL)
        inject(sim, *DAY[1])
        confirmed_matches(sim, 1)
        cursor = store.cursors["chain"]
        fault(sim, service="rpc", rpc_method="eth_getLogs", **spec)
        for _ in range(2):
            assert await source.poll(TARGETS_ALL) == []
            source.commit()
        assert source.errors == 2
        assert store.cursors["chain"] == cursor
        clear_faults(sim)
        fills = await collect(source, TARGETS_ALL, 1)
    finally:
        await source.aclose()
    assert fills[0].tx_hash == confirmed_matches(sim, 1)[0]["tx_hash"]


async def test_chain_stall_then_catch_up(sim: RunningSim) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    chain = chain_source(sim, store, stall_after=0.05)
    data = data_source(sim, store)
    try:
        await start(chain, TARGETS_ALL)
        await start(data, TARGETS_ALL)
        stall(sim, True)
        inject(sim, *DAY[0])
        inject(sim, *DAY[2])
        await asyncio.sleep(0.3)  # several block times: nothing may be mined
        assert await chain.poll(TARGETS_ALL) == []
        assert await data.poll(TARGETS_ALL) == []  # not mined = not indexed
        before = chain.last_success
        await asyncio.sleep(0.2)
        assert await chain.poll(TARGETS_ALL) == []
        assert chain.last_success == before  # a head that does not move is not a success
        assert chain.head_age is not None and chain.head_age > 0.05
        assert chain.errors == 0
        stall(sim, False)
        confirmed_matches(sim, 2)
        from_chain = await collect(chain, TARGETS_ALL, 2)
        from_data = await collect(data, TARGETS_ALL, 2)
    finally:
        stall(sim, False)
        await chain.aclose()
        await data.aclose()
    assert chain.last_success is not None and chain.last_success > (before or 0)
    assert {f.key for f in from_chain} == {f.key for f in from_data}


@pytest.mark.parametrize("kind", ["data", "chain"])
async def test_downtime_within_max_age_is_caught_up(sim: RunningSim, kind: str) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    make = data_source if kind == "data" else chain_source
    source = make(sim, store, max_age=600)
    await start(source, TARGETS_ALL)
    await source.aclose()
    for trade in DAY[:3]:  # the bot is down meanwhile
        inject(sim, *trade)
    confirmed_matches(sim, 3)
    restarted = make(sim, store, max_age=600)
    try:
        fills = await collect(restarted, TARGETS_ALL, 3)
    finally:
        await restarted.aclose()
    assert restarted.last_report is not None and restarted.last_report.dropped_old == 0
    assert len({f.key for f in fills}) == 3


@pytest.mark.parametrize("kind", ["data", "chain"])
async def test_downtime_beyond_max_age_drops_and_counts(sim: RunningSim, kind: str) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    make = data_source if kind == "data" else chain_source
    source = make(sim, store)
    await start(source, TARGETS_ALL)
    await source.aclose()
    for trade in DAY[:2]:
        inject(sim, *trade)
    confirmed_matches(sim, 2)
    # the bot comes back 20 minutes later: those fills are 20 minutes old, max-age is 10
    later = make(sim, store, max_age=600, report_window=3600,
                 clock=lambda: time.time() + 1200)
    try:
        assert await later.poll(TARGETS_ALL) == []
        later.commit()
        assert later.last_report is not None and later.last_report.dropped_old == 2
        assert later.health.dropped_old == 2
        inject(sim, *DAY[3])  # a fresh fill after the restart is copied as usual
        confirmed_matches(sim, 3)
    finally:
        await later.aclose()
    now = make(sim, store)
    try:
        fills = await collect(now, TARGETS_ALL, 1)
    finally:
        await now.aclose()
    assert now.last_report is not None and now.last_report.dropped_old == 0
    assert fills[0].token_id == token(sim, "fed-cut", "Yes")


@pytest.mark.parametrize("kind", ["data", "chain"])
async def test_downtime_beyond_the_report_window_is_not_even_fetched(
        sim: RunningSim, kind: str) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    make = data_source if kind == "data" else chain_source
    source = make(sim, store)
    await start(source, TARGETS_ALL)
    await source.aclose()
    inject(sim, *DAY[0])
    confirmed_matches(sim, 1)
    later = make(sim, store, max_age=60, report_window=60, clock=lambda: time.time() + 7200)
    try:
        assert await later.poll(TARGETS_ALL) == []
        later.commit()
    finally:
        await later.aclose()
    report = later.last_report
    assert report is not None and report.dropped_old == 0 and report.notes


async def test_a_long_outage_ends_within_one_poll_of_the_api_answering(sim: RunningSim) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    # a long outage has grown every wallet's backoff far beyond the poll interval
    source = data_source(sim, store, backoff_base=3600)
    try:
        await start(source, TARGETS_ALL)
        fault(sim, service="data", route="/activity", kind="status", status=503)
        assert await source.poll(TARGETS_ALL) == []  # every wallet fails: an outage
        asked = source.requests
        for _ in range(3):  # meanwhile one probe a poll, not one request per wallet
            assert await source.poll(TARGETS_ALL) == []
            assert source.last_report.skipped_backoff == len(TARGETS_ALL) - 1
        assert source.requests == asked + 3
        clear_faults(sim)
        for trade in (DAY[0], DAY[2]):
            inject(sim, *trade)
        confirmed_matches(sim, 2)
        fills = await collect(source, TARGETS_ALL, 2)
    finally:
        await source.aclose()
    assert {fill.wallet for fill in fills} == {DAY[0][0], DAY[2][0]}
