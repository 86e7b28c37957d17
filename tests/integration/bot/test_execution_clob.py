"""Live execution against the simulated CLOB, signed by the real py-clob-client-v2.

Every fill is checked against the simulator's ground truth (`GET {admin}/matches`): whatever the
faults, an order id appears in at most one match.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D

import httpx
import pytest
from pydantic import SecretStr

from polymarket_bot.execution import ClobExchange, InvalidOrder, SignedOrder
from polymarket_bot.models import (
    Action,
    Decision,
    IntentStatus,
    MarketInfo,
    OrderIntent,
    Side,
    TargetFill,
)
from polymarket_bot.state import Store
from polymarket_sim.app import RunningSim

# tests/conftest.py's Hardhat account #0 (public, fake); `import conftest` is ambiguous from this
# folder, which has a conftest of its own.
TEST_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
# Hardhat account #1: a public test key that the simulator never funds.
UNFUNDED_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
TAKER = "0x35B52687A72fe6515A776d5Ca4319619ca7Eb177"  # a scripted trader that hits our orders
_ids = itertools.count(1)


@pytest.fixture
def market(sim: RunningSim) -> MarketInfo:
    """A market whose Yes book asks 100 at 0.53 and 100 at 0.55 and bids 100 at 0.47; we hold
    pUSD 1000 and 50 Yes shares."""
    admin = sim.urls["admin"]
    scenario = {"name": "exec", "markets": [{"slug": "rain", "outcomes": [
        {"name": "Yes", "bids": [[0.47, 100]], "asks": [[0.53, 100], [0.55, 100]]},
        {"name": "No"}]}]}
    httpx.post(f"{admin}/scenario", json=scenario).raise_for_status()
    rain = next(m for m in sim.sim.markets if m.slug == "rain")
    yes = rain.outcomes[0].token_id
    httpx.post(f"{admin}/fund", json={"address": TEST_ADDRESS, "collateral": 1000,
                                      "shares": {yes: 50}}).raise_for_status()
    return MarketInfo(token_id=yes, condition_id=rain.condition_id, outcome="Yes",
                      outcome_index=0, slug="rain", tick_size=rain.tick_size,
                      min_order_size=rain.min_order_size)


@pytest.fixture
async def exchange(sim: RunningSim) -> AsyncIterator[ClobExchange]:
    live = ClobExchange(sim.urls["clob"], 137, SecretStr(TEST_PRIVATE_KEY), timeout=3.0,
                        backoff=0.01, max_backoff=0.05)
    await live.start()
    yield live
    await live.close()


def intent(market: MarketInfo, side: Side, size: str, price: str,
           order_type: str = "FAK") -> OrderIntent:
    return OrderIntent(id=f"intent-{next(_ids)}", fill_key=f"fill-{next(_ids)}",
                       wallet="0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D",
                       token_id=market.token_id, condition_id=market.condition_id, side=side,
                       size=D(size), limit_price=D(price), order_type=order_type,
                       created_at=time.time())


def matches_of(sim: RunningSim, order_id: str) -> list[dict]:
    """Matches in which this order took part, as taker or maker."""
    every = httpx.get(f"{sim.urls['admin']}/matches").json()
    return [m for m in every if m["taker_order_id"] == order_id
            or any(f["order_id"] == order_id for f in m["makers"])]


def add_fault(sim: RunningSim, **spec: object) -> int:
    reply = httpx.post(f"{sim.urls['admin']}/faults", json={"service": "clob", **spec})
    reply.raise_for_status()
    return reply.json()["id"]


def count_requests(sim: RunningSim, route: str) -> int:
    """A fault that changes nothing (zero latency) but counts the requests to a route."""
    return add_fault(sim, route=route, kind="latency", latency=0)


def hits(sim: RunningSim, fault_id: int) -> int:
    faults = httpx.get(f"{sim.urls['admin']}/faults").json()
    return next(f["hits"] for f in faults if f["id"] == fault_id)


async def test_fak_buy_fills_what_the_book_has_up_to_the_limit(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange) -> None:
    planned = intent(market, Side.BUY, "150", "0.54")
    signed = await exchange.sign(planned, market)
    assert await exchange.sign(planned, market) == signed  # one intent, one order
    result = await exchange.post(signed, "FAK")
    assert (result.status, result.filled_size, result.avg_price) == ("matched", 100, D("0.53"))
    assert result.order_id == signed.order_id  # our EIP-712 hash is the CLOB's orderID
    (match,) = matches_of(sim, signed.order_id)
    assert D(match["size"]) == 100 and match["taker"] == TEST_ADDRESS
    assert await exchange.collateral_balance() == D(1000) - D(53)
    assert await exchange.lookup(signed.order_id) == result


async def test_fak_sell_and_a_price_with_cents_of_shares(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange) -> None:
    signed = await exchange.sign(intent(market, Side.SELL, "10.01", "0.47"), market)
    result = await exchange.post(signed, "FAK")
    # 10.01 shares exactly: the float-based create_order would have signed 10.00
    assert (result.status, result.filled_size, result.avg_price) == ("matched", D("10.01"),
                                                                      D("0.47"))
    assert D(matches_of(sim, signed.order_id)[0]["size"]) == D("10.01")


async def test_gtc_rests_is_looked_up_filled_by_a_taker_and_cancelled(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange) -> None:
    signed = await exchange.sign(intent(market, Side.BUY, "30", "0.50", "GTC"), market)
    posted = await exchange.post(signed, "GTC")
    assert (posted.status, posted.filled_size) == ("live", 0)
    assert (await exchange.lookup(signed.order_id)).status == "live"
    # a trader sells 10 into our bid: we are the maker, at our price
    httpx.post(f"{sim.urls['admin']}/trades", json={
        "trader": TAKER, "token_id": market.token_id, "side": "SELL", "size": 10,
        "price": 0.50}).raise_for_status()
    partly = await exchange.lookup(signed.order_id)
    assert (partly.status, partly.filled_size, partly.avg_price) == ("live", 10, D("0.50"))
    await exchange.cancel(signed.order_id)
    final = await exchange.lookup(signed.order_id)
    assert (final.status, final.filled_size) == ("canceled", 10)
    await exchange.cancel(signed.order_id)  # cancelling again is harmless


async def test_gtc_that_crosses_fills_part_and_rests_the_rest(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange) -> None:
    signed = await exchange.sign(intent(market, Side.BUY, "120", "0.53", "GTC"), market)
    result = await exchange.post(signed, "GTC")
    assert (result.status, result.filled_size, result.avg_price) == ("live", 100, D("0.53"))
    book = await exchange.book(market.token_id)
    assert book.bids[0].price == D("0.53") and book.bids[0].size == 20
    assert (await exchange.lookup(signed.order_id)).filled_size == 100


async def test_neg_risk_orders_are_signed_for_the_neg_risk_exchange(
        sim: RunningSim, exchange: ClobExchange) -> None:
    scenario = {"name": "fed", "markets": [{"slug": "fed", "neg_risk": True, "tick_size": "0.001",
                                            "outcomes": [{"name": "Yes",
                                                          "asks": [[0.613, 50]]},
                                                         {"name": "No"}]}]}
    httpx.post(f"{sim.urls['admin']}/scenario", json=scenario).raise_for_status()
    httpx.post(f"{sim.urls['admin']}/fund", json={"address": TEST_ADDRESS, "collateral": 100}
               ).raise_for_status()
    fed = next(m for m in sim.sim.markets if m.slug == "fed")
    market = MarketInfo(token_id=fed.outcomes[0].token_id, condition_id=fed.condition_id,
                        outcome="Yes", outcome_index=0, tick_size=D("0.001"),
                        min_order_size=D(5), neg_risk=True)
    signed = await exchange.sign(intent(market, Side.BUY, "10", "0.613"), market)
    result = await exchange.post(signed, "FAK")
    assert (result.status, result.filled_size, result.avg_price) == ("matched", 10, D("0.613"))
    assert result.order_id == signed.order_id


@pytest.mark.parametrize("signature_type", [2, 3])
async def test_proxy_and_deposit_wallets_trade_with_the_funder_s_money(
        sim: RunningSim, market: MarketInfo, signature_type: int) -> None:
    wallet = "0x" + f"{signature_type:02x}" * 20
    httpx.post(f"{sim.urls['admin']}/fund", json={"address": wallet, "collateral": 50}
               ).raise_for_status()
    owner = ClobExchange(sim.urls["clob"], 137, SecretStr(UNFUNDED_KEY),
                         signature_type=signature_type, funder=wallet)
    try:
        signed = await owner.sign(intent(market, Side.BUY, "10", "0.53"), market)
        result = await owner.post(signed, "FAK")
        assert (result.status, result.filled_size) == ("matched", 10)
        assert await owner.collateral_balance() == D(50) - D("5.3")
    finally:
        await owner.close()


async def test_an_order_of_an_old_version_is_refused_and_the_version_relearned(
        market: MarketInfo, exchange: ClobExchange) -> None:
    planned = intent(market, Side.BUY, "10", "0.53")
    # what a stale version cache would sign: the V2 struct under the version-1 domain
    stale = await asyncio.to_thread(exchange._sign, planned, False, 1)
    exchange._version = 1
    refused = await exchange.post(stale, "FAK")
    assert refused.status == "rejected" and not refused.retryable
    assert refused.error.startswith("order_version_mismatch") and "version 2" in refused.error
    assert exchange._version == 2
    fresh = await exchange.post(await exchange.sign(planned, market), "FAK")
    assert (fresh.status, fresh.filled_size) == ("matched", 10)


async def test_fok_without_enough_liquidity_is_unmatched_not_an_error(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange) -> None:
    signed = await exchange.sign(intent(market, Side.BUY, "500", "0.55", "FOK"), market)
    result = await exchange.post(signed, "FOK")
    assert (result.status, result.filled_size, result.error) == ("unmatched", 0, None)
    nothing = await exchange.post(
        await exchange.sign(intent(market, Side.BUY, "10", "0.50"), market), "FAK")
    assert (nothing.status, nothing.filled_size) == ("unmatched", 0)
    assert matches_of(sim, signed.order_id) == []


async def test_orders_below_the_minimum_are_rejected_for_good(
        market: MarketInfo, exchange: ClobExchange) -> None:
    result = await exchange.post(
        await exchange.sign(intent(market, Side.BUY, "2", "0.40", "GTC"), market), "GTC")
    assert result.status == "rejected" and not result.retryable
    assert "lower than the minimum: 5" in result.error
    small = await exchange.post(
        await exchange.sign(intent(market, Side.BUY, "1", "0.53"), market), "FAK")
    assert small.status == "rejected" and "min size: $1" in small.error
    with pytest.raises(InvalidOrder):
        await exchange.sign(intent(market, Side.BUY, "10", "0.535"), market)  # off the tick
    with pytest.raises(InvalidOrder):
        await exchange.sign(intent(market, Side.BUY, "10.005", "0.53"), market)


async def test_not_enough_balance_refreshes_the_cache_once_and_does_not_retry(
        sim: RunningSim, market: MarketInfo) -> None:
    posts = count_requests(sim, "/order")
    refreshes = count_requests(sim, "/balance-allowance/update")
    broke = ClobExchange(sim.urls["clob"], 137, SecretStr(UNFUNDED_KEY), backoff=0.01)
    try:
        result = await broke.post(
            await broke.sign(intent(market, Side.BUY, "10", "0.53"), market), "FAK")
    finally:
        await broke.close()
    assert (result.status, result.error, result.retryable) == (
        "rejected", "not enough balance / allowance", False)
    assert (hits(sim, posts), hits(sim, refreshes)) == (1, 1)


@pytest.mark.parametrize("statuses", [[429], [500], [429, 503]])
async def test_rate_limits_and_server_errors_are_retried_with_the_same_order(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange,
        statuses: list[int]) -> None:
    for status in statuses:
        add_fault(sim, route="/order", method="POST", kind="status", status=status, count=1)
    posts = count_requests(sim, "/order")
    signed = await exchange.sign(intent(market, Side.BUY, "20", "0.53"), market)
    result = await exchange.post(signed, "FAK")
    assert (result.status, result.filled_size) == ("matched", 20)
    assert hits(sim, posts) == 1  # the one attempt that got through the faults
    assert len(matches_of(sim, signed.order_id)) == 1


async def test_retries_are_bounded(sim: RunningSim, market: MarketInfo,
                                   exchange: ClobExchange) -> None:
    add_fault(sim, route="/order", method="POST", kind="status", status=500)
    signed = await exchange.sign(intent(market, Side.BUY, "20", "0.53"), market)
    result = await exchange.post(signed, "FAK")
    assert result.status == "rejected" and result.retryable and "500" in result.error
    httpx.delete(f"{sim.urls['admin']}/faults").raise_for_status()
    assert (await exchange.lookup(signed.order_id)).status == "not_found"
    assert matches_of(sim, signed.order_id) == []


@pytest.mark.parametrize("kind", ["timeout", "garbage"])
async def test_a_lost_reply_is_retried_and_the_order_is_then_found(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange, kind: str) -> None:
    add_fault(sim, route="/order", method="POST", kind=kind, hang=0.2, count=1)
    signed = await exchange.sign(intent(market, Side.BUY, "20", "0.53"), market)
    result = await exchange.post(signed, "FAK")
    assert (result.status, result.filled_size) == ("matched", 20)
    found = await exchange.lookup(signed.order_id)
    assert (found.status, found.filled_size, found.avg_price) == ("matched", 20, D("0.53"))
    assert len(matches_of(sim, signed.order_id)) == 1


class ReplyLosingProxy:
    """A loopback TCP proxy to the CLOB that forwards every request but loses the replies to
    the first `lose` order posts: the exchange has taken the order, we never hear of it."""

    def __init__(self, upstream: str, lose: int) -> None:
        self._upstream = httpx.URL(upstream)
        self.lose = lose
        self._relays: set[asyncio.Task] = set()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for relay in self._relays:
            relay.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, client_in: asyncio.StreamReader,
                     client_out: asyncio.StreamWriter) -> None:
        self._relays.add(asyncio.current_task())
        server_in, server_out = await asyncio.open_connection(self._upstream.host,
                                                              self._upstream.port)
        posted = False

        async def requests() -> None:
            nonlocal posted
            while data := await client_in.read(65536):
                posted = posted or b"POST /order HTTP" in data
                server_out.write(data)
                await server_out.drain()
            server_out.close()

        async def replies() -> None:
            while data := await server_in.read(65536):
                if posted and self.lose > 0:
                    self.lose -= 1
                    break  # drop the reply and hang up, as a broken connection would
                client_out.write(data)
                await client_out.drain()
            client_out.close()
            server_out.close()

        try:
            await asyncio.gather(requests(), replies(), return_exceptions=True)
        except asyncio.CancelledError:
            pass  # the proxy is shutting down: end quietly
        finally:
            client_out.close()
            server_out.close()


async def test_an_order_whose_reply_was_lost_is_not_posted_twice(
        sim: RunningSim, market: MarketInfo) -> None:
    async with ReplyLosingProxy(sim.urls["clob"], lose=1) as url:
        flaky = ClobExchange(url, 137, SecretStr(TEST_PRIVATE_KEY), backoff=0.01)
        try:
            await flaky.start()
            signed = await flaky.sign(intent(market, Side.BUY, "20", "0.53"), market)
            # the first post is matched at the exchange and its reply lost; the re-post of the
            # same order is a duplicate there, answered by looking the order up
            result = await flaky.post(signed, "FAK")
        finally:
            await flaky.close()
    assert (result.status, result.filled_size, result.avg_price) == ("matched", 20, D("0.53"))
    assert len(matches_of(sim, signed.order_id)) == 1


def copy_of(planned: OrderIntent) -> tuple[TargetFill, Decision]:
    """The target fill and the decision an intent comes from."""
    now = time.time()
    fill = TargetFill(key=planned.fill_key, wallet=planned.wallet, source="chain",
                      tx_hash="0x" + "ab" * 32, timestamp=now, token_id=planned.token_id,
                      side=planned.side, size=planned.size, price=planned.limit_price,
                      usdc_size=planned.size * planned.limit_price, detected_at=now)
    decision = Decision(fill_key=fill.key, wallet=fill.wallet, token_id=fill.token_id,
                        condition_id=planned.condition_id, action=Action.COPY, reason="copied",
                        side=planned.side, size=planned.size, limit_price=planned.limit_price,
                        decided_at=now)
    return fill, decision


async def test_a_signed_order_lost_in_a_crash_is_reposted_from_the_store_once(
        sim: RunningSim, market: MarketInfo, exchange: ClobExchange, tmp_path) -> None:
    store = Store(tmp_path / "state.db")
    planned = intent(market, Side.BUY, "25", "0.53")
    assert store.record_detection(*copy_of(planned), planned)
    signed = await exchange.sign(planned, market)
    store.mark_signed(planned.id, signed.order_id, signed.payload)
    store.close()  # the crash: signed, committed, never posted

    store = Store(tmp_path / "state.db")
    (pending,) = store.unresolved_intents()
    assert pending.status is IntentStatus.SIGNED
    assert (await exchange.lookup(pending.order_id)).status == "not_found"
    payload = store.signed_order(pending.id)
    result = await exchange.post(SignedOrder(order_id=pending.order_id, payload=payload), "FAK")
    store.apply_result(pending.id, result)
    again = await exchange.post(SignedOrder(order_id=pending.order_id, payload=payload), "FAK")
    store.apply_result(pending.id, again)  # a second restart replays it: nothing changes
    assert result == again
    assert (result.status, result.filled_size) == ("matched", 25)
    assert len(matches_of(sim, signed.order_id)) == 1
    assert store.position(market.token_id).size == 25
    assert store.intent(pending.id).status is IntentStatus.DONE
    assert store.integrity_check() == []
    store.close()


async def test_the_private_key_appears_in_no_repr(exchange: ClobExchange) -> None:
    assert TEST_PRIVATE_KEY[2:] not in repr(exchange)
    assert TEST_PRIVATE_KEY[2:] not in str(vars(exchange))
