"""Both sources against the simulator: the targets' fills, exactly, with one key per fill."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sources_helpers import (
    DAY,
    MAKER,
    TARGETS_ALL,
    chain_source,
    collect,
    confirmed_matches,
    data_source,
    essence,
    inject,
    load_markets,
    start,
    token,
)

from polymarket_bot.sources import FillStream, MarketDirectory, MemoryCursorStore, build_sources
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration
TARGETS = TARGETS_ALL


def expected_fills(matches: list[dict]) -> set[tuple]:
    """(tx, wallet, token, side, shares) of every target fill, from the exchange's ground truth."""
    out = set()
    targets = {t.lower() for t in TARGETS}
    for match in matches:
        for maker in match["makers"]:
            if maker["maker"].lower() in targets:
                out.add((match["tx_hash"], maker["maker"].lower(), maker["token_id"],
                         maker["side"], Decimal(maker["size"])))
        if match["taker"].lower() in targets:
            size = sum((Decimal(m["size"]) for m in match["makers"]), Decimal(0))
            out.add((match["tx_hash"], match["taker"].lower(), match["token_id"], match["side"],
                     size))
    return out


def as_truth(fills) -> set[tuple]:
    return {(f.tx_hash, f.wallet.lower(), f.token_id, f.side.value, f.size) for f in fills}


@pytest.mark.parametrize("api_version", ["v1", "v2"])
async def test_both_sources_report_exactly_the_targets_fills_with_the_same_keys(
        sim: RunningSim, api_version: str) -> None:
    load_markets(sim)
    data_store, chain_store = MemoryCursorStore(), MemoryCursorStore()
    data = data_source(sim, data_store, api_version=api_version)
    chain = chain_source(sim, chain_store)
    try:
        await start(data, TARGETS)
        await start(chain, TARGETS)
        for trade in DAY:
            inject(sim, *trade)
        matches = confirmed_matches(sim, len(DAY))
        from_data = await collect(data, TARGETS, len(DAY), data_store)
        from_chain = await collect(chain, TARGETS, len(DAY), chain_store)
    finally:
        await data.aclose()
        await chain.aclose()

    assert as_truth(from_chain) == expected_fills(matches)
    assert sorted(map(essence, from_data)) == sorted(map(essence, from_chain))
    assert len({f.key for f in from_chain}) == len(DAY)
    assert all(f.source == "chain" and f.log_index is not None for f in from_chain)
    # the Data API names the outcome and market; the chain does not know them
    by_token = {f.token_id: f for f in from_data}
    assert by_token[token(sim, "lakers-celtics", "Celtics")].outcome == "Celtics"
    assert by_token[token(sim, "lakers-celtics", "Lakers")].wallet == MAKER
    neg_risk = by_token[token(sim, "fed-cut", "Yes")]
    assert neg_risk.price == Decimal("0.618") and neg_risk.size == Decimal(25)
    sells = [f for f in from_data if f.side.value == "SELL"]
    assert [f.size for f in sells] == [Decimal(60)]
    assert sells[0].price >= Decimal("0.47")  # a taker sell at 0.47 may fill better
    assert data.errors == chain.errors == 0


async def test_stream_in_both_mode_delivers_each_fill_once_and_enriches_chain_fills(
        sim: RunningSim) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    data, chain = data_source(sim, store), chain_source(sim, store)
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"])
    stream = FillStream(build_sources("both", data_api=data, chain=chain), store, markets=markets)
    try:
        await start(stream, TARGETS)  # type: ignore[arg-type]
        for trade in DAY:
            inject(sim, *trade)
        confirmed_matches(sim, len(DAY))
        delivered = await collect(stream, TARGETS, len(DAY), store)  # type: ignore[arg-type]
        # both sources have now seen every fill; later polls stay empty
        for _ in range(3):
            assert await stream.poll(TARGETS) == []
            stream.commit()
    finally:
        await stream.aclose()

    assert len({f.key for f in delivered}) == len(DAY) == len(delivered)
    assert [f.timestamp for f in delivered] == sorted(f.timestamp for f in delivered)
    stats = stream.stats
    assert sum(stats.first.values()) == len(DAY)
    assert stats.first["chain"] + stats.confirmed["chain"] == len(DAY)
    assert stats.first["data_api"] + stats.confirmed["data_api"] == len(DAY)
    # every delivered fill knows its market and outcome, whichever source won
    outcomes = {f.token_id: f.outcome for f in delivered}
    assert outcomes[token(sim, "lakers-celtics", "Lakers")] == "Lakers"
    assert outcomes[token(sim, "fed-cut", "Yes")] == "Yes"
    assert all(f.condition_id for f in delivered)


async def test_first_start_copies_no_history(sim: RunningSim) -> None:
    load_markets(sim)
    for trade in DAY[:3]:
        inject(sim, *trade)
    confirmed_matches(sim, 3)
    store = MemoryCursorStore()
    data, chain = data_source(sim, store), chain_source(sim, store)
    try:
        await start(data, TARGETS)
        await start(chain, TARGETS)
        assert await data.poll(TARGETS) == [] and await chain.poll(TARGETS) == []
        data.commit()
        chain.commit()
        inject(sim, *DAY[3])
        confirmed_matches(sim, 4)
        new_data = await collect(data, TARGETS, 1)
        new_chain = await collect(chain, TARGETS, 1)
    finally:
        await data.aclose()
        await chain.aclose()
    assert new_data[0].key == new_chain[0].key
    assert new_data[0].token_id == token(sim, "fed-cut", "Yes")


async def test_a_restart_without_commit_redelivers_and_a_committed_one_does_not(
        sim: RunningSim) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    data, chain = data_source(sim, store), chain_source(sim, store)
    await start(data, TARGETS)
    await start(chain, TARGETS)
    await data.aclose()
    await chain.aclose()
    inject(sim, *DAY[0])
    confirmed_matches(sim, 1)

    # a process that detected the fill and died before storing it: nothing committed
    crashed = [data_source(sim, store), chain_source(sim, store)]
    seen = [await s.poll(TARGETS) for s in crashed]
    for source in crashed:
        await source.aclose()
    assert all(len(batch) == 1 for batch in seen)

    # the restarted process gets the same fill again, commits, and then never again
    restarted = [data_source(sim, store), chain_source(sim, store)]
    try:
        again = [await collect(s, TARGETS, 1) for s in restarted]
        assert [b[0].key for b in again] == [b[0].key for b in seen]
    finally:
        for source in restarted:
            await source.aclose()
    final = [data_source(sim, store), chain_source(sim, store)]
    try:
        assert [await s.poll(TARGETS) for s in final] == [[], []]
    finally:
        for source in final:
            await source.aclose()


@pytest.mark.parametrize("api_version", ["v1", "v2"])
async def test_small_pages_are_followed_to_the_end(sim: RunningSim, api_version: str) -> None:
    load_markets(sim)
    store = MemoryCursorStore()
    source = data_source(sim, store, api_version=api_version, page_limit=2)
    try:
        await start(source, TARGETS)
        for trade in DAY:
            inject(sim, *trade)
        confirmed_matches(sim, len(DAY))
        fills = await collect(source, TARGETS, len(DAY))
    finally:
        await source.aclose()
    assert len({f.key for f in fills}) == len(DAY)
    assert source.requests > len(TARGETS) * 2  # the whale's 4 fills took several pages
