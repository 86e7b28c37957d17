"""The real py-clob-client-v2 against the simulated CLOB, with the chain mining its trades."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal as D

import httpx
import pytest
from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    BookParams,
    MarketOrderArgsV2,
    OpenOrderParams,
    OrderArgsV2,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    PartialCreateOrderOptions,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from polymarket_sim import actions
from polymarket_sim.app import RunningSim
from polymarket_sim.core import Market, Outcome, Side

# Well-known public test keys (Hardhat accounts #0 and #1): fake, never funded anywhere real.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ADDRESS = Account.from_key(KEY).address
YES, NO = "52114319501245915516055106046884209969926127482827954674443846427813813222426", "2"
NR_YES, NR_NO = "3", "4"
CONDITION = "0x" + "5a" * 32
NR_CONDITION = "0x" + "6b" * 32


@pytest.fixture
def running(sim: RunningSim) -> RunningSim:
    """The simulator with a plain and a neg-risk market, a book, and a funded trader."""
    sim.call(sim.sim.markets.add, Market(
        condition_id=CONDITION, question="Will it rain?", slug="rain",
        outcomes=[Outcome("Yes", YES), Outcome("No", NO)]))
    sim.call(sim.sim.markets.add, Market(
        condition_id=NR_CONDITION, question="Fed cut?", slug="fed", neg_risk=True,
        tick_size=D("0.001"), outcomes=[Outcome("Yes", NR_YES), Outcome("No", NR_NO)]))
    book = ((YES, Side.SELL, "0.55", 100), (YES, Side.SELL, "0.56", 100),
            (YES, Side.BUY, "0.45", 100), (NR_YES, Side.SELL, "0.613", 50))
    for token, side, price, size in book:
        sim.call(actions.add_liquidity, sim.sim, token, side, D(price), D(size))
    sim.call(actions.fund, sim.sim, ADDRESS, D(1000), None, {YES: D(40)})
    return sim


def connect(running: RunningSim, key: str = KEY, **options) -> ClobClient:
    client = ClobClient(running.urls["clob"], chain_id=137, key=key, **options)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def api_error(raised: pytest.ExceptionInfo) -> tuple[int, str]:
    error = raised.value
    assert isinstance(error, PolyApiException)
    return error.status_code, error.error_msg["error"]


def test_api_keys_are_created_once_and_derived_after(running: RunningSim) -> None:
    client = ClobClient(running.urls["clob"], chain_id=137, key=KEY)
    with pytest.raises(PolyApiException) as not_yet:
        client.derive_api_key()
    assert api_error(not_yet) == (400, "Could not derive api key!")
    created = client.create_or_derive_api_key()
    assert re.fullmatch(r"[0-9a-f-]{36}", created.api_key)
    assert client.create_or_derive_api_key() == created  # create refuses, derive answers
    assert client.derive_api_key() == created
    client.set_api_creds(created)
    assert client.get_api_keys() == {"apiKeys": [created.api_key]}


def test_public_market_data(running: RunningSim) -> None:
    client = ClobClient(running.urls["clob"], chain_id=137)
    assert client.get_ok() == "OK"
    assert client.get_version() == 2
    assert client.get_tick_size(YES) == "0.01"
    assert client.get_tick_size(NR_YES) == "0.001"
    assert client.get_neg_risk(NR_YES) is True
    book = client.get_order_book(YES)
    assert book["bids"] == [{"price": "0.45", "size": "100"}]
    assert book["asks"] == [{"price": "0.56", "size": "100"}, {"price": "0.55", "size": "100"}]
    assert client.get_order_book_hash(book) == book["hash"]
    assert client.get_price(YES, "BUY") == {"price": "0.45"}
    assert client.get_price(YES, "SELL") == {"price": "0.55"}
    assert client.get_midpoint(YES) == {"mid": "0.5"}
    assert client.get_spread(YES) == {"spread": "0.1"}
    info = client.get_clob_market_info(CONDITION)
    assert info["mos"] == 5 and [t["t"] for t in info["t"]] == [YES, NO]
    with pytest.raises(PolyApiException) as unknown:
        client.get_order_book("999")
    assert api_error(unknown) == (404, "No orderbook exists for the requested token id")
    assert httpx.get(running.urls["clob"] + "/no-such-route").status_code == 404


def test_batch_market_data(running: RunningSim) -> None:
    client = ClobClient(running.urls["clob"], chain_id=137)
    books = client.get_order_books([BookParams(YES), BookParams(NR_YES), BookParams("999")])
    assert [b["asset_id"] for b in books] == [YES, NR_YES]
    assert client.get_prices([BookParams(YES, "BUY"), BookParams(YES, "SELL")]) == {
        YES: {"BUY": "0.45", "SELL": "0.55"}}
    assert client.get_midpoints([BookParams(YES)]) == {YES: "0.5"}
    assert client.get_spreads([BookParams(YES)]) == {YES: "0.1"}
    assert client.get_last_trades_prices([BookParams(YES)]) == [
        {"token_id": YES, "price": "0", "side": ""}]
    market = client.get_market(CONDITION)
    assert (market["condition_id"], market["minimum_tick_size"], market["neg_risk"]) == (
        CONDITION, 0.01, False)
    assert [t["outcome"] for t in market["tokens"]] == ["Yes", "No"]
    listed = client.get_markets()
    assert listed["next_cursor"] == "LTE=" and len(listed["data"]) == 2
    clob = running.urls["clob"]
    assert httpx.get(f"{clob}/markets-by-token/{NR_NO}").json() == {
        "condition_id": NR_CONDITION, "primary_token_id": NR_YES, "secondary_token_id": NR_NO}
    assert httpx.get(f"{clob}/book", params={"token_id": "abc"}).json() == {
        "error": "Invalid token id"}
    assert httpx.get(f"{clob}/price", params={"token_id": YES, "side": "UP"}).json() == {
        "error": "Invalid side"}
    assert httpx.get(f"{clob}/tick-size", params={"token_id": "999"}).status_code == 404
    assert isinstance(client.get_server_time(), int)


def test_the_book_mirrors_the_other_outcome(running: RunningSim) -> None:
    client = ClobClient(running.urls["clob"], chain_id=137)
    book = client.get_order_book(NO)  # YES asks at 0.55/0.56 are NO bids at 0.45/0.44
    assert book["bids"] == [{"price": "0.44", "size": "100"}, {"price": "0.45", "size": "100"}]
    assert book["asks"] == [{"price": "0.55", "size": "100"}]


def test_limit_buy_rests_shows_up_and_cancels(running: RunningSim) -> None:
    client = connect(running)
    posted = client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.50, size=10,
                                                      side="BUY"))
    assert posted["success"] is True and posted["status"] == "live"
    assert re.fullmatch(r"0x[0-9a-f]{64}", posted["orderID"])
    (mine,) = client.get_open_orders(OpenOrderParams(market=CONDITION))
    assert mine["id"] == posted["orderID"]
    assert (mine["side"], mine["price"], mine["original_size"], mine["size_matched"],
            mine["outcome"], mine["status"]) == ("BUY", "0.5", "10", "0", "Yes", "LIVE")
    assert client.get_order(posted["orderID"])["status"] == "LIVE"
    assert {"price": "0.5", "size": "10"} in client.get_order_book(YES)["bids"]
    assert client.cancel_order(OrderPayload(orderID=posted["orderID"])) == {
        "canceled": [posted["orderID"]], "not_canceled": {}}
    assert client.get_open_orders() == []
    assert client.get_order(posted["orderID"])["status"] == "CANCELED"
    # benches subtract the exchange's own time on each posted order from the bot's
    own = httpx.get(f"{running.urls['admin']}/order-seconds").json()
    assert list(own) == [posted["orderID"]] and 0 < own[posted["orderID"]] < 5


def test_limit_sell_fills_partly_and_rests_the_rest(running: RunningSim) -> None:
    client = connect(running)
    posted = client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.45, size=30,
                                                      side="SELL"))
    assert posted["status"] == "matched"
    order = client.get_order(posted["orderID"])
    assert order["size_matched"] == "30" and order["status"] == "MATCHED"
    # the bid has 70 left; a 40-share sell at 0.44 takes them... but the trader holds only 10 more
    with pytest.raises(PolyApiException) as short:
        client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.44, size=40, side="SELL"))
    assert api_error(short) == (400, "not enough balance / allowance")
    running.call(actions.fund, running.sim, ADDRESS, D(0), None, {YES: D(100)})
    resting = client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.44, size=100,
                                                       side="SELL"))
    assert resting["status"] == "matched" and resting["takingAmount"] == "31.5"
    order = client.get_order(resting["orderID"])
    assert (order["status"], order["size_matched"]) == ("LIVE", "70")
    assert client.get_order_book(YES)["asks"][-1] == {"price": "0.44", "size": "30"}
    assert client.get_balance_allowance(BalanceAllowanceParams(
        asset_type=AssetType.CONDITIONAL, token_id=YES))["balance"] == "40000000"


def test_fak_buy_takes_what_is_there(running: RunningSim) -> None:
    client = connect(running)
    order = client.create_order(OrderArgsV2(token_id=YES, price=0.55, size=150, side="BUY"))
    posted = client.post_order(order, OrderType.FAK)
    assert posted["status"] == "matched"
    assert (posted["makingAmount"], posted["takingAmount"]) == ("55", "100")
    assert len(posted["transactionsHashes"]) == 1  # mined by the chain, then resolved
    assert client.get_open_orders() == []
    with pytest.raises(PolyApiException) as nothing:
        client.post_order(client.create_order(OrderArgsV2(token_id=YES, price=0.50, size=10,
                                                          side="BUY")), OrderType.FAK)
    assert api_error(nothing) == (400, "no orders found to match with FAK order. FAK orders are "
                                       "partially filled or killed if no match is found.")


def test_market_buy_fok_fills_and_settles(running: RunningSim) -> None:
    client = connect(running)
    posted = client.create_and_post_market_order(MarketOrderArgsV2(token_id=YES, amount=11,
                                                                   side="BUY"))
    assert posted["status"] == "matched"
    assert (posted["makingAmount"], posted["takingAmount"]) == ("11", "20")
    (trade,) = client.get_trades(TradeParams(market=CONDITION))
    assert trade["transaction_hash"] in posted["transactionsHashes"]
    assert (trade["side"], trade["size"], trade["price"], trade["trader_side"]) == (
        "BUY", "20", "0.55", "TAKER")
    assert trade["status"] in ("MINED", "CONFIRMED")
    collateral = client.get_balance_allowance(BalanceAllowanceParams(
        asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == "989000000"
    shares = client.get_balance_allowance(BalanceAllowanceParams(
        asset_type=AssetType.CONDITIONAL, token_id=YES))
    assert shares["balance"] == "60000000"
    with pytest.raises(PolyApiException) as too_big:
        client.create_and_post_market_order(MarketOrderArgsV2(token_id=YES, amount=500,
                                                              side="BUY", price=0.56))
    assert api_error(too_big) == (
        400, "order couldn't be fully filled. FOK orders are fully filled or killed.")


def test_neg_risk_orders_are_signed_for_the_neg_risk_exchange(running: RunningSim) -> None:
    client = connect(running)
    posted = client.create_and_post_order(OrderArgsV2(token_id=NR_YES, price=0.613, size=10,
                                                      side="BUY"))
    assert posted["status"] == "matched"
    assert client.get_last_trade_price(NR_YES) == {"price": "0.613", "side": "BUY"}


def test_trades_and_orders_paginate_to_the_end(running: RunningSim) -> None:
    client = connect(running)
    engine = running.sim.engine
    for _ in range(130):
        running.call(engine.place, ADDRESS, YES, Side.BUY, D("0.30"), D(5), "GTC", False,
                     client.creds.api_key, True)
    assert len(client.get_open_orders()) == 130
    first = client.get_trades_paginated()
    assert first["trades"] == [] and first["next_cursor"] == "LTE="
    for _ in range(105):
        running.call(actions.trade, running.sim, ADDRESS, YES, Side.BUY, D("0.55"), D(1))
    page = client.get_trades_paginated()
    assert (len(page["trades"]), page["next_cursor"]) == (100, "MTAw")
    trades = client.get_trades()
    assert len(trades) == 105 and len({t["id"] for t in trades}) == 105


def test_cancel_all_and_by_market(running: RunningSim) -> None:
    client = connect(running)
    ids = [client.create_and_post_order(OrderArgsV2(token_id=token, price=price, size=10,
                                                    side="BUY"))["orderID"]
           for token, price in ((YES, 0.40), (YES, 0.41), (NR_YES, 0.5))]
    canceled = client.cancel_market_orders(OrderMarketCancelParams(market=NR_CONDITION))
    assert canceled == {"canceled": [ids[2]], "not_canceled": {}}
    assert sorted(client.cancel_all()["canceled"]) == sorted(ids[:2])
    refused = client.cancel_orders([ids[0]])
    assert refused == {"canceled": [], "not_canceled": {ids[0]: "Order not found or already "
                                                                 "canceled"}}


def test_batch_posts_answer_per_order(running: RunningSim) -> None:
    client = connect(running)
    good = client.create_order(OrderArgsV2(token_id=YES, price=0.40, size=10, side="BUY"))
    small = client.create_order(OrderArgsV2(token_id=YES, price=0.40, size=1, side="BUY"))
    results = client.post_orders([PostOrdersV2Args(order=good, orderType=OrderType.GTC),
                                  PostOrdersV2Args(order=small, orderType=OrderType.GTC)])
    assert [r["success"] for r in results] == [True, False]
    assert "lower than the minimum: 5" in results[1]["errorMsg"]


def test_forged_l2_headers_are_unauthorized(running: RunningSim) -> None:
    client = connect(running)
    real = client.creds
    client.set_api_creds(ApiCreds(real.api_key, "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1rZXktMzItYnl0ZXM=",
                                  real.api_passphrase))
    with pytest.raises(PolyApiException) as forged:
        client.get_open_orders()
    assert api_error(forged) == (401, "Unauthorized/Invalid api key")
    client.set_api_creds(ApiCreds(real.api_key, real.api_secret, "f" * 64))
    with pytest.raises(PolyApiException) as wrong_passphrase:
        client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.4, size=10, side="BUY"))
    assert api_error(wrong_passphrase) == (401, "Unauthorized/Invalid api key")


def test_orders_signed_by_the_wrong_key_are_refused(running: RunningSim) -> None:
    client = connect(running)
    order = client.create_order(OrderArgsV2(token_id=YES, price=0.40, size=10, side="BUY"))
    other = Account.from_key(OTHER_KEY).address
    forged = dataclasses.replace(order, signer=other, maker=other)
    with pytest.raises(PolyApiException) as bad_signature:
        client.post_order(forged)
    assert api_error(bad_signature) == (400, "invalid signature")
    stranger = ClobClient(running.urls["clob"], chain_id=137, key=OTHER_KEY).create_order(
        OrderArgsV2(token_id=YES, price=0.40, size=10, side="BUY"),
        PartialCreateOrderOptions(tick_size="0.01", neg_risk=False, version=2))
    with pytest.raises(PolyApiException) as not_yours:
        client.post_order(stranger)
    assert api_error(not_yours) == (
        400, "the order signer address has to be the address of the API KEY")


def test_orders_below_the_minimum_or_without_funds_are_refused(running: RunningSim) -> None:
    client = connect(running)
    with pytest.raises(PolyApiException) as small:
        client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.40, size=2, side="BUY"))
    status, message = api_error(small)
    assert status == 400
    assert re.fullmatch(r"order 0x[0-9a-f]{64} is invalid\. Size \(2\) lower than the minimum: 5",
                        message)
    broke = connect(running, OTHER_KEY)
    with pytest.raises(PolyApiException) as unfunded:
        broke.create_and_post_order(OrderArgsV2(token_id=YES, price=0.40, size=10, side="BUY"))
    assert api_error(unfunded) == (400, "not enough balance / allowance")


def test_v1_orders_get_a_version_mismatch(running: RunningSim) -> None:
    client = connect(running)
    v1 = client.create_order(OrderArgsV2(token_id=YES, price=0.40, size=10, side="BUY"),
                             PartialCreateOrderOptions(version=1))
    with pytest.raises(PolyApiException) as old:
        client.post_order(v1)
    assert api_error(old) == (400, "order_version_mismatch")


def test_proxy_wallet_orders_spend_the_funders_balance(running: RunningSim) -> None:
    safe = Account.create().address
    running.call(actions.fund, running.sim, safe, D(50))
    client = connect(running, OTHER_KEY, signature_type=2, funder=safe)
    posted = client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.55, size=10,
                                                      side="BUY"))
    assert posted["status"] == "matched"
    collateral = client.get_balance_allowance(BalanceAllowanceParams(
        asset_type=AssetType.COLLATERAL))
    assert collateral["balance"] == "44500000"


def test_deposit_wallet_orders_verify_the_owners_signature(running: RunningSim) -> None:
    wallet = Account.create().address
    running.call(actions.fund, running.sim, wallet, D(50))
    client = connect(running, OTHER_KEY, signature_type=3, funder=wallet)
    posted = client.create_and_post_order(OrderArgsV2(token_id=YES, price=0.40, size=10,
                                                      side="BUY"))
    assert posted["status"] == "live"
    (mine,) = client.get_open_orders()
    assert mine["maker_address"] == wallet
