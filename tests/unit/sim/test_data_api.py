"""The fake Data API: a row per on-chain fill, only once mined, with the real params and errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from polymarket_sim import data_api
from polymarket_sim.app import serve_in_thread as serve
from polymarket_sim.context import Sim
from polymarket_sim.core import MakerFill, Market, Match, Outcome, Side, new_id

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

WHALE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
MAKER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OTHER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
RAIN = Market("0x" + "11" * 32, "Will it rain?", "rain",
              [Outcome("Yes", "101"), Outcome("No", "102")])
GAME = Market("0x" + "22" * 32, "Lakers vs Celtics", "lakers-celtics",
              [Outcome("Lakers", "201"), Outcome("Celtics", "202")], event_slug="nba")
FED = Market("0x" + "33" * 32, "Fed cuts in March?", "fed-march",
             [Outcome("Yes", "301"), Outcome("No", "302")], neg_risk=True, event_slug="fed")




class Env:
    def __init__(self, sim: Sim, client: httpx.Client) -> None:
        self.sim = sim
        self.client = client
        self.block = 100

    def get(self, path: str, **params: object) -> httpx.Response:
        return self.client.get(path, params=params)

    def ok(self, path: str, **params: object) -> list | dict:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def match(self, taker: str, side: Side, token: str, makers: list[MakerFill],
              confirm: bool = True, block_time: int | None = None) -> Match:
        market = self.sim.markets.by_token(token)
        assert market is not None
        size = sum((m.size for m in makers), Decimal(0))
        cost = sum((m.price * m.size if m.token_id == token else (1 - m.price) * m.size
                    for m in makers), Decimal(0))
        match = Match(match_id=new_id(""), taker_order_id=new_id(), taker=taker,
                      taker_owner="", side=side, condition_id=market.condition_id,
                      token_id=token, price=cost / size, size=size, makers=makers)
        self.sim.ledger.record(match)
        if confirm:
            self.confirm(match, block_time)
        return match

    def confirm(self, match: Match, block_time: int | None = None) -> None:
        self.block += 1
        logs = list(range(len(match.makers) + 1))
        self.sim.ledger.confirm(match, new_id(), self.block, block_time or 1_790_000_000 +
                                self.block * 2, logs)


def fill(maker: str, side: Side, token: str, price: str, size: str) -> MakerFill:
    return MakerFill(order_id=new_id(), maker=maker, owner="", side=side, token_id=token,
                     price=Decimal(price), size=Decimal(size))


@pytest.fixture
def env() -> Iterator[Env]:
    sim = Sim()
    for market in (RAIN, GAME, FED):
        market.last_trade_price.clear()
        sim.markets.add(market)
    with serve(data_api.build_app(sim)) as url, httpx.Client(base_url=url,
                                                              trust_env=False) as client:
        yield Env(sim, client)


def test_user_is_required_and_must_be_an_address(env: Env) -> None:
    missing = env.get("/activity")
    assert missing.status_code == 400
    assert missing.json() == {"error": "required query param 'user' not provided"}
    assert env.get("/positions", user="0x123").status_code == 400
    v2 = env.get("/v2/activity")
    assert v2.status_code == 400
    assert v2.json()["error"] == "Failed to deserialize query string: missing field `user`"
    assert v2.json()["code"] == "invalid_request"


def test_a_match_shows_only_once_the_chain_confirmed_it(env: Env) -> None:
    match = env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.53", "100")],
                      confirm=False)
    assert env.ok("/activity", user=WHALE) == []
    env.confirm(match, block_time=1_790_000_123)
    [row] = env.ok("/activity", user=WHALE.lower())
    assert row["transactionHash"] == match.tx_hash
    assert row["timestamp"] == 1_790_000_123
    assert row["proxyWallet"] == WHALE.lower()
    assert (row["type"], row["side"], row["size"], row["usdcSize"], row["price"]) == (
        "TRADE", "BUY", 100, 53, 0.53)
    assert (row["asset"], row["outcome"], row["outcomeIndex"], row["slug"], row["title"]) == (
        "101", "Yes", 0, "rain", "Will it rain?")
    expected = {"proxyWallet", "timestamp", "conditionId", "type", "size", "usdcSize",
                "transactionHash", "price", "asset", "side", "outcomeIndex", "title", "slug",
                "icon", "eventSlug", "outcome", "name", "pseudonym", "bio", "profileImage",
                "profileImageOptimized"}
    assert set(row) == expected


def test_one_row_per_order_filled_for_makers_and_the_takers_whole_order(env: Env) -> None:
    # the whale's taker BUY sweeps two of MAKER's asks and one of OTHER's
    match = env.match(WHALE, Side.BUY, "202", [
        fill(MAKER, Side.SELL, "202", "0.58", "10"),
        fill(MAKER, Side.SELL, "202", "0.59", "20"),
        fill(OTHER, Side.SELL, "202", "0.60", "10"),
    ])
    [taker] = env.ok("/activity", user=WHALE)
    assert (taker["size"], taker["usdcSize"], taker["outcome"]) == (40, 23.6, "Celtics")
    assert taker["price"] == pytest.approx(0.59)
    maker_rows = env.ok("/activity", user=MAKER, sortBy="CASH", sortDirection="ASC")
    assert [(r["side"], r["size"], r["price"]) for r in maker_rows] == [
        ("SELL", 10, 0.58), ("SELL", 20, 0.59)]
    assert {r["transactionHash"] for r in maker_rows} == {match.tx_hash}
    assert {r["eventSlug"] for r in maker_rows} == {"nba"}


def test_a_complement_fill_costs_the_taker_one_minus_the_makers_price(env: Env) -> None:
    # a BUY of Yes at 0.6 against a resting BUY of No at 0.4: the pair is minted
    env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.BUY, "102", "0.4", "50")])
    [taker] = env.ok("/activity", user=WHALE)
    [maker] = env.ok("/activity", user=MAKER)
    assert (taker["asset"], taker["usdcSize"], taker["price"]) == ("101", 30, 0.6)
    assert (maker["asset"], maker["side"], maker["usdcSize"], maker["outcome"]) == (
        "102", "BUY", 20, "No")


def test_trades_hide_maker_fills_unless_taker_only_is_false(env: Env) -> None:
    env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.5", "10")])
    env.match(MAKER, Side.BUY, "201", [fill(OTHER, Side.SELL, "201", "0.4", "5")])
    assert [t["asset"] for t in env.ok("/trades", user=MAKER)] == ["201"]
    every = env.ok("/trades", user=MAKER, takerOnly="false")
    assert [t["asset"] for t in every] == ["201", "101"]  # newest first
    assert "usdcSize" not in every[0] and every[0]["transactionHash"]
    assert len(env.ok("/trades", takerOnly="false")) == 4  # whole tape: 2 makers + 2 takers
    assert len(env.ok("/trades", market=RAIN.condition_id)) == 1
    assert env.ok("/trades", user=MAKER, takerOnly="false", filterType="CASH",
                  filterAmount="3") == [every[1]]
    lone = env.get("/trades", filterType="CASH")
    assert lone.status_code == 400 and "together" in lone.json()["error"]


def test_activity_filters_sorting_and_caps(env: Env) -> None:
    for i, token in enumerate(("101", "202", "301")):
        env.match(WHALE, Side.BUY, token, [fill(MAKER, Side.SELL, token, "0.5", str(10 + i))])
    env.match(WHALE, Side.SELL, "101", [fill(MAKER, Side.BUY, "101", "0.7", "5")])
    rows = env.ok("/activity", user=WHALE)
    assert [r["timestamp"] for r in rows] == sorted((r["timestamp"] for r in rows), reverse=True)
    assert [r["size"] for r in env.ok("/activity", user=WHALE, sortBy="TOKENS")] == [12, 11, 10, 5]
    assert len(env.ok("/activity", user=WHALE, type="TRADE,REDEEM")) == 4
    assert env.ok("/activity", user=WHALE, type="MERGE") == []
    assert env.get("/activity", user=WHALE, type="BOGUS").status_code == 400
    assert [r["side"] for r in env.ok("/activity", user=WHALE, side="SELL")] == ["SELL"]
    assert len(env.ok("/activity", user=WHALE, market=f"{RAIN.condition_id},{FED.condition_id}")
               ) == 3
    newest = rows[0]["timestamp"]
    assert len(env.ok("/activity", user=WHALE, start=newest)) == 1
    assert len(env.ok("/activity", user=WHALE, end=newest - 1)) == 3
    assert len(env.ok("/activity", user=WHALE, limit=2, offset=1)) == 2
    assert len(env.ok("/activity", user=WHALE, limit=100000)) == 4  # silently cut to 500
    too_deep = env.get("/activity", user=WHALE, offset=5001)
    assert too_deep.status_code == 400
    assert too_deep.json() == {"error": "max historical activity offset of 5000 exceeded"}
    assert env.get("/trades", offset=10001).json() == {
        "error": "max historical trades offset of 10000 exceeded"}


def test_garbage_parameters_get_400_never_500(env: Env) -> None:
    env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.5", "10")])
    garbage = ["", "-1", "abc", "1e999", "NaN", "0x", "%00", "9" * 40, "TRUE,false", "[]"]
    routes = {
        "/activity": ["limit", "offset", "start", "end", "sortBy", "sortDirection", "market",
                      "side", "type", "eventId"],
        "/trades": ["limit", "offset", "takerOnly", "filterType", "filterAmount", "market"],
        "/positions": ["limit", "offset", "sizeThreshold", "sortBy", "redeemable", "title"],
        "/v2/activity": ["limit", "cursor", "condition", "sort_direction", "type", "start"],
        "/v2/trades": ["limit", "cursor", "taker_only", "filter_amount", "filter_type"],
        "/v2/positions": ["limit", "cursor", "status", "sort_by"],
    }
    for path, names in routes.items():
        for name in names:
            for value in garbage:
                response = env.get(path, user=WHALE, **{name: value})
                assert response.status_code in (200, 400), (path, name, value, response.text)


def test_positions_use_average_cost_and_realise_pnl_on_sells(env: Env) -> None:
    env.match(WHALE, Side.BUY, "202", [fill(MAKER, Side.SELL, "202", "0.40", "10")])
    env.match(WHALE, Side.BUY, "202", [fill(MAKER, Side.SELL, "202", "0.60", "10")])
    env.match(WHALE, Side.SELL, "202", [fill(MAKER, Side.BUY, "202", "0.70", "5")])
    GAME.last_trade_price["202"] = Decimal("0.65")
    [position] = env.ok("/positions", user=WHALE)
    assert (position["size"], position["avgPrice"], position["totalBought"]) == (15, 0.5, 20)
    assert (position["initialValue"], position["currentValue"]) == (7.5, 9.75)
    assert (position["realizedPnl"], position["cashPnl"], position["curPrice"]) == (1, 2.25, 0.65)
    assert position["percentPnl"] == 30
    assert (position["outcome"], position["oppositeOutcome"], position["oppositeAsset"]) == (
        "Celtics", "Lakers", "201")
    assert position["endDate"] == "2027-01-01" and position["negativeRisk"] is False
    assert env.ok("/value", user=WHALE) == [{"user": WHALE.lower(), "value": 9.75}]


def test_position_filters_mergeable_and_negative_risk(env: Env) -> None:
    env.match(WHALE, Side.BUY, "301", [fill(MAKER, Side.SELL, "301", "0.6", "10")])
    env.match(WHALE, Side.BUY, "302", [fill(MAKER, Side.SELL, "302", "0.3", "0.5")])
    positions = env.ok("/positions", user=WHALE)
    assert [p["asset"] for p in positions] == ["301"]  # 0.5 shares are under sizeThreshold=1
    assert positions[0]["negativeRisk"] is True and positions[0]["mergeable"] is True
    assert len(env.ok("/positions", user=WHALE, sizeThreshold=0)) == 2
    assert env.ok("/positions", user=WHALE, market=RAIN.condition_id) == []
    assert len(env.ok("/positions", user=WHALE, title="fed")) == 1
    assert [p["size"] for p in env.ok("/positions", user=WHALE, sizeThreshold=0,
                                      sortBy="TOKENS", sortDirection="ASC")] == [0.5, 10]


def test_v2_activity_pages_with_cursors_and_snake_case(env: Env) -> None:
    for i in range(7):
        env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.5", str(5 + i))])
    first = env.ok("/v2/activity", user=WHALE, limit=3)
    row = first["data"][0]
    assert {"proxy_wallet", "condition_id", "usdc_size", "transaction_hash", "token_id",
            "outcome_index", "event_slug", "profile_image"} <= set(row)
    assert "asset" not in row and "proxyWallet" not in row
    seen, page = [], first
    while True:
        seen.extend(r["size"] for r in page["data"])
        if not page["pagination"]["has_more"]:
            assert page["pagination"]["next_cursor"] is None
            break
        page = env.ok("/v2/activity", user=WHALE, cursor=page["pagination"]["next_cursor"])
    assert seen == [11, 10, 9, 8, 7, 6, 5]
    ascending = env.ok("/v2/activity", user=WHALE, sort_direction="ASC", limit=100)
    assert [r["size"] for r in ascending["data"]] == seen[::-1]
    too_big = env.get("/v2/activity", user=WHALE, limit=1001)
    assert too_big.json()["error"] == (
        "Failed to deserialize query string: limit: limit must be between 0 and 1000")
    assert env.get("/v2/activity", user=WHALE, offset=0).status_code == 400
    assert env.get("/v2/activity", user=WHALE, cursor="not-a-cursor").status_code == 400


def test_v2_trades_and_positions(env: Env) -> None:
    env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.5", "10")])
    env.match(MAKER, Side.BUY, "202", [fill(WHALE, Side.SELL, "202", "0.4", "5")])
    assert len(env.ok("/v2/trades", user=WHALE)["data"]) == 1
    assert len(env.ok("/v2/trades", user=WHALE, taker_only="false")["data"]) == 2
    env.match(WHALE, Side.SELL, "101", [fill(MAKER, Side.BUY, "101", "0.6", "10")])
    open_ = env.ok("/v2/positions", user=WHALE)["data"]
    assert open_ == []
    [closed] = env.ok("/v2/positions", user=WHALE, status="CLOSED")["data"]
    assert (closed["token_id"], closed["status"], closed["realized_pnl"]) == ("101", "CLOSED", 1)
    assert closed["total_size"] == 10 and closed["current_size"] == 0


def test_name_comes_from_sim_profiles_when_present(env: Env) -> None:
    env.sim.profiles = {WHALE.lower(): "whale"}  # type: ignore[attr-defined]
    env.match(WHALE, Side.BUY, "101", [fill(MAKER, Side.SELL, "101", "0.5", "10")])
    [row] = env.ok("/activity", user=WHALE)
    assert row["name"] == "whale" and row["pseudonym"]


def test_resolution_shows_after_the_lag_and_a_redemption_is_a_redeem_not_a_trade(
        env: Env) -> None:
    from polymarket_sim import resolution
    from polymarket_sim.chain.events import Redemption

    snow = Market("0x" + "44" * 32, "Snow?", "snow", [Outcome("Yes", "401"), Outcome("No", "402")])
    env.sim.markets.add(snow)
    env.match(WHALE, Side.BUY, "401", [fill(MAKER, Side.SELL, "401", "0.40", "10")])
    env.match(WHALE, Side.BUY, "402", [fill(MAKER, Side.SELL, "402", "0.50", "4")])
    env.sim.positions_lag = 60
    resolution.resolve(env.sim, "snow", "Yes")
    rows = {r["outcome"]: r for r in env.ok("/positions", user=WHALE)}
    assert not rows["Yes"]["redeemable"] and rows["Yes"]["curPrice"] == 0.4
    snow.resolved_at = (snow.resolved_at or 0) - 61  # the indexer caught up
    rows = {r["outcome"]: r for r in env.ok("/positions", user=WHALE)}
    assert (rows["Yes"]["redeemable"], rows["Yes"]["curPrice"]) == (True, 1)
    assert (rows["No"]["redeemable"], rows["No"]["curPrice"]) == (True, 0)
    assert rows["Yes"]["currentValue"] == 10

    for listener in env.sim.redemption_listeners:
        listener(Redemption(user=WHALE.lower(), condition_id=snow.condition_id,
                            collateral="0x" + "00" * 20, payout=10_000_000, pusd=10_000_000,
                            burned={401: 10_000_000, 402: 4_000_000}, tx_hash="0x" + "ab" * 32,
                            block_number=env.block + 1, timestamp=1_790_001_000, log_index=3))
    assert env.ok("/positions", user=WHALE) == []
    activity = env.ok("/activity", user=WHALE)
    assert [r["type"] for r in activity] == ["REDEEM", "TRADE", "TRADE"]
    redeem = activity[0]
    assert (redeem["size"], redeem["usdcSize"], redeem["side"], redeem["asset"]) == (14, 10, "", "")
    assert redeem["conditionId"] == snow.condition_id and redeem["slug"] == "snow"
    assert len(env.ok("/activity", user=WHALE, type="TRADE")) == 2
    assert len(env.ok("/trades", user=WHALE)) == 2
    assert env.ok("/activity", user=WHALE, type="REDEEM", side="SELL") == []
    closed = env.ok("/v2/positions", user=WHALE, status="CLOSED")["data"]
    # bought 10 at 0.40 and 4 at 0.50, paid 10 back: realized +6 and -2
    assert sorted(r["realized_pnl"] for r in closed) == [-2, 6]
