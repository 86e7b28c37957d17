"""The fake Gamma API: JSON-in-a-string fields, named outcomes, neg-risk and the real filters."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from polymarket_sim import gamma
from polymarket_sim.app import serve_in_thread as serve
from polymarket_sim.context import Sim
from polymarket_sim.core import MakerFill, Market, Match, Outcome, Side, new_id

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"




def markets() -> list[Market]:
    return [
        Market("0x" + "11" * 32, "Will it rain?", "rain",
               [Outcome("Yes", "101"), Outcome("No", "102")]),
        Market("0x" + "22" * 32, "Lakers vs Celtics", "lakers-celtics",
               [Outcome("Lakers", "201"), Outcome("Celtics", "202")], event_slug="nba-finals",
               tick_size=Decimal("0.001"), min_order_size=Decimal("15")),
        Market("0x" + "33" * 32, "Fed cuts in March?", "fed-march",
               [Outcome("Yes", "301"), Outcome("No", "302")], neg_risk=True, event_slug="fed"),
        Market("0x" + "44" * 32, "Fed cuts in June?", "fed-june",
               [Outcome("Yes", "401"), Outcome("No", "402")], neg_risk=True, event_slug="fed"),
        Market("0x" + "55" * 32, "Old election", "old-election",
               [Outcome("Yes", "501"), Outcome("No", "502")], active=True, closed=True),
    ]


@pytest.fixture
def sim() -> Sim:
    sim = Sim()
    for market in markets():
        sim.markets.add(market)
    return sim


@pytest.fixture
def client(sim: Sim) -> Iterator[httpx.Client]:
    with serve(gamma.build_app(sim)) as url, httpx.Client(base_url=url, trust_env=False) as c:
        yield c


def get(client: httpx.Client, path: str, params: object = None) -> list | dict:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_json_encoded_string_fields_and_named_outcomes(client: httpx.Client) -> None:
    [game] = get(client, "/markets", {"slug": "lakers-celtics"})
    assert isinstance(game["outcomes"], str) and isinstance(game["clobTokenIds"], str)
    assert json.loads(game["outcomes"]) == ["Lakers", "Celtics"]
    assert json.loads(game["clobTokenIds"]) == ["201", "202"]
    assert json.loads(game["outcomePrices"]) == ["0.5", "0.5"]
    assert game["orderPriceMinTickSize"] == 0.001 and game["orderMinSize"] == 15
    assert game["negRisk"] is False and game["enableOrderBook"] is True
    assert game["acceptingOrders"] is True and game["active"] is True and game["closed"] is False
    assert game["endDate"] == "2027-01-01T00:00:00Z"
    assert game["events"][0]["slug"] == "nba-finals"
    assert isinstance(game["volume"], str) and isinstance(game["liquidity"], str)


def test_filters_by_token_condition_and_slug(client: httpx.Client) -> None:
    by_tokens = get(client, "/markets", [("clob_token_ids", "102"), ("clob_token_ids", "302")])
    assert sorted(m["slug"] for m in by_tokens) == ["fed-march", "rain"]
    by_condition = get(client, "/markets", {"condition_ids": "0x" + "22" * 32})
    assert [m["slug"] for m in by_condition] == ["lakers-celtics"]
    assert get(client, "/markets", {"clob_token_ids": "999"}) == []


def test_neg_risk_markets_share_an_event_and_a_neg_risk_market_id(client: httpx.Client) -> None:
    fed = get(client, "/markets", [("slug", "fed-march"), ("slug", "fed-june")])
    assert [m["negRisk"] for m in fed] == [True, True]
    assert fed[0]["negRiskMarketID"] == fed[1]["negRiskMarketID"]
    assert fed[0]["events"][0]["id"] == fed[1]["events"][0]["id"]
    event = get(client, "/events/slug/fed")
    assert len(event["markets"]) == 2 and event["negRisk"] is True


def test_closed_markets_are_hidden_unless_asked_for(client: httpx.Client) -> None:
    assert "old-election" not in [m["slug"] for m in get(client, "/markets")]
    assert get(client, "/markets", {"clob_token_ids": "501"}) == []
    [old] = get(client, "/markets", {"clob_token_ids": "501", "closed": "true"})
    assert old["closed"] is True and old["acceptingOrders"] is False


def test_paging_and_lookup_by_id(client: httpx.Client) -> None:
    everything = get(client, "/markets", {"limit": 1000})
    assert len(everything) == 4
    page = get(client, "/markets", {"limit": 2, "offset": 1})
    assert [m["id"] for m in page] == [m["id"] for m in everything[1:3]]
    one = get(client, f"/markets/{everything[0]['id']}")
    assert one["slug"] == everything[0]["slug"]
    assert client.get("/markets/123").status_code == 404
    assert client.get("/markets/abc").status_code == 422
    assert client.get("/markets", params={"limit": "x"}).status_code == 422
    assert client.get("/markets", params={"closed": "maybe"}).status_code == 422
    assert client.get("/markets", params={"offset": 5000}).status_code == 422


def test_volume_and_prices_follow_confirmed_trades(sim: Sim, client: httpx.Client) -> None:
    market = sim.markets.by_token("201")
    assert market is not None
    maker = MakerFill(new_id(), "0x" + "ab" * 20, "", Side.SELL, "201", Decimal("0.4"),
                      Decimal("100"))
    match = Match(new_id(""), new_id(), "0x" + "cd" * 20, "", Side.BUY, market.condition_id,
                  "201", Decimal("0.4"), Decimal("100"), [maker])
    sim.ledger.record(match)
    assert get(client, "/markets", {"slug": "lakers-celtics"})[0]["volume"] == "0"
    sim.ledger.confirm(match, new_id(), 10, 1_790_000_000, [0, 1])
    market.last_trade_price["201"] = Decimal("0.4")
    [game] = get(client, "/markets", {"slug": "lakers-celtics"})
    assert game["volumeNum"] == 40
    assert json.loads(game["outcomePrices"])[0] == "0.4"
    assert game["lastTradePrice"] == 0.4
