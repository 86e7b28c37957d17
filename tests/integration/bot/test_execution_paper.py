"""Paper execution: fills simulated against the simulator's live book, kept in the store."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest

from polymarket_bot.execution import PaperExchange, PublicBooks, SignedOrder
from polymarket_bot.models import MarketInfo, OrderIntent, Side
from polymarket_bot.state import Store
from polymarket_sim.app import RunningSim

MAKER = "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177"
_ids = itertools.count(1)


@pytest.fixture
def market(sim: RunningSim) -> MarketInfo:
    """Yes asks 100 at 0.53 and 100 at 0.55, bids 100 at 0.47 (the simulator's live book)."""
    scenario = {"name": "paper", "markets": [{"slug": "rain", "outcomes": [
        {"name": "Yes", "bids": [[0.47, 100]], "asks": [[0.53, 100], [0.55, 100]]},
        {"name": "No"}]}]}
    httpx.post(f"{sim.urls['admin']}/scenario", json=scenario).raise_for_status()
    rain = next(m for m in sim.sim.markets if m.slug == "rain")
    return MarketInfo(token_id=rain.outcomes[0].token_id, condition_id=rain.condition_id,
                      outcome="Yes", outcome_index=0, tick_size=rain.tick_size,
                      min_order_size=rain.min_order_size)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "state.db")


@pytest.fixture
async def paper(sim: RunningSim, store: Store) -> AsyncIterator[PaperExchange]:
    exchange = PaperExchange(PublicBooks(sim.urls["clob"]), store, starting_balance=D(500))
    yield exchange
    await exchange.close()


def intent(market: MarketInfo, side: Side, size: str, price: str,
           order_type: str = "FAK") -> OrderIntent:
    return OrderIntent(id=f"paper-{next(_ids)}", fill_key=f"fill-{next(_ids)}", wallet="0xabc",
                       token_id=market.token_id, condition_id=market.condition_id, side=side,
                       size=D(size), limit_price=D(price), order_type=order_type,
                       created_at=time.time())


async def submit(paper: PaperExchange, market: MarketInfo, side: Side, size: str, price: str,
                 order_type: str = "FAK") -> tuple[SignedOrder, object]:
    signed = await paper.sign(intent(market, side, size, price, order_type), market)
    return signed, await paper.post(signed, order_type)


async def test_fak_takes_the_book_up_to_its_limit_and_kills_the_rest(
        sim: RunningSim, market: MarketInfo, paper: PaperExchange) -> None:
    _, first = await submit(paper, market, Side.BUY, "250", "0.54")
    assert (first.status, first.filled_size, first.avg_price) == ("matched", 100, D("0.53"))
    _, second = await submit(paper, market, Side.BUY, "150", "0.55")
    assert (second.status, second.filled_size) == ("matched", 150)
    assert (second.avg_price * 150).quantize(D("0.000001")) == D("80.5")  # 100 at 0.53, 50 at 0.55
    assert await paper.collateral_balance() == D(500) - D(53) - D("80.5")
    assert httpx.get(f"{sim.urls['admin']}/matches").json() == []  # paper never trades


async def test_fok_is_all_or_nothing_and_fak_with_nothing_in_range_is_unmatched(
        market: MarketInfo, paper: PaperExchange) -> None:
    _, fok = await submit(paper, market, Side.BUY, "250", "0.55", "FOK")
    assert (fok.status, fok.filled_size) == ("unmatched", 0)
    _, fak = await submit(paper, market, Side.BUY, "10", "0.50")
    assert (fak.status, fak.filled_size) == ("unmatched", 0)
    _, whole = await submit(paper, market, Side.BUY, "200", "0.55", "FOK")
    assert (whole.status, whole.filled_size) == ("matched", 200)


async def test_the_exchange_s_refusals_are_replayed(
        store: Store, market: MarketInfo, paper: PaperExchange) -> None:
    _, small = await submit(paper, market, Side.BUY, "2", "0.40", "GTC")
    assert small.status == "rejected" and small.error == "Size (2) lower than the minimum: 5"
    _, dust = await submit(paper, market, Side.BUY, "1", "0.53")
    assert dust.status == "rejected" and "min size: $1" in dust.error
    _, rich = await submit(paper, market, Side.BUY, "1000", "0.55")
    assert (rich.status, rich.error) == ("rejected", "not enough balance / allowance")
    _, naked = await submit(paper, market, Side.SELL, "10", "0.47")
    assert (naked.status, naked.error) == ("rejected", "not enough balance / allowance")
    assert not rich.retryable and not naked.retryable


async def test_gtc_rests_and_fills_when_the_book_comes_to_it(
        sim: RunningSim, market: MarketInfo, paper: PaperExchange) -> None:
    signed, resting = await submit(paper, market, Side.BUY, "30", "0.50", "GTC")
    assert (resting.status, resting.filled_size) == ("live", 0)
    assert await paper.collateral_balance() == D(500) - D(15)  # held by the resting bid
    assert (await paper.lookup(signed.order_id)).status == "live"
    httpx.post(f"{sim.urls['admin']}/liquidity", json={
        "token_id": market.token_id, "side": "SELL", "price": 0.50, "size": 20},
    ).raise_for_status()
    partly = await paper.lookup(signed.order_id)
    assert (partly.status, partly.filled_size, partly.avg_price) == ("live", 20, D("0.50"))
    await paper.cancel(signed.order_id)
    final = await paper.lookup(signed.order_id)
    assert (final.status, final.filled_size) == ("canceled", 20)
    assert await paper.collateral_balance() == D(490)


async def test_paper_orders_survive_a_restart_and_never_fill_twice(
        sim: RunningSim, market: MarketInfo, store: Store, tmp_path: Path) -> None:
    first = PaperExchange(PublicBooks(sim.urls["clob"]), store)
    planned = intent(market, Side.BUY, "120", "0.55")
    signed = await first.sign(planned, market)
    result = await first.post(signed, "FAK")
    await first.close()
    store.close()

    reopened = Store(tmp_path / "state.db")
    again = PaperExchange(PublicBooks(sim.urls["clob"]), reopened)
    try:
        assert (await again.sign(planned, market)).order_id == signed.order_id  # deterministic
        assert await again.lookup(signed.order_id) == result
        assert await again.post(signed, "FAK") == result  # a replayed post changes nothing
        assert await again.collateral_balance() == D(1000) - D(64)  # 100 at 0.53 and 20 at 0.55
        unknown = await again.lookup("0x" + "00" * 32)
        assert unknown.status == "not_found"
    finally:
        await again.close()
        reopened.close()
