"""Public (L0) routes: server info, markets, order books and prices."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from aiohttp import web

from ..context import Sim
from ..core import Market
from . import errors, views
from .engine import BookSnapshot, Engine
from .errors import number
from .replies import error_reply, json_reply, token_param

MAX_BOOKS = 500  # token ids per POST /books, /prices, ...


class MarketData:
    def __init__(self, sim: Sim, engine: Engine) -> None:
        self.sim = sim
        self.engine = engine

    def add_routes(self, app: web.Application) -> None:
        get, post = app.router.add_get, app.router.add_post
        get("/", self.ok)
        get("/ok", self.ok)
        get("/time", self.server_time)
        get("/version", self.version)
        get("/tick-size", self.tick_size)
        get("/neg-risk", self.neg_risk)
        get("/fee-rate", self.fee_rate)
        get("/markets-by-token/{token_id}", self.markets_by_token)
        get("/clob-markets/{condition_id}", self.clob_market)
        get("/markets/{condition_id}", self.market)
        get("/markets", self.markets)
        get("/book", self.book)
        post("/books", self.books)
        get("/price", self.price)
        post("/prices", self.prices)
        get("/midpoint", self.midpoint)
        post("/midpoints", self.midpoints)
        get("/spread", self.spread)
        post("/spreads", self.spreads)
        get("/last-trade-price", self.last_trade_price)
        post("/last-trades-prices", self.last_trades_prices)

    def _snapshot(self, token_id: str | None) -> BookSnapshot | web.Response:
        if token_id is None:
            return error_reply(errors.INVALID_TOKEN_ID)
        snapshot = self.engine.book(token_id)
        if snapshot is None:
            return error_reply(errors.NO_ORDERBOOK, 404)
        return snapshot

    # --- server -------------------------------------------------------------------------------

    async def ok(self, request: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def server_time(self, request: web.Request) -> web.Response:
        return json_reply(int(time.time()))

    async def version(self, request: web.Request) -> web.Response:
        return json_reply({"version": 2})

    # --- markets ------------------------------------------------------------------------------

    def _market_of_token(self, request: web.Request) -> tuple[Market | None, web.Response | None]:
        token = token_param(request)
        if token is None:
            return None, error_reply(errors.INVALID_TOKEN_ID)
        market = self.sim.markets.by_token(token)
        if market is None:
            return None, error_reply(errors.MARKET_NOT_FOUND, 404)
        return market, None

    async def tick_size(self, request: web.Request) -> web.Response:
        market, failure = self._market_of_token(request)
        return failure or json_reply({"minimum_tick_size": float(market.tick_size)})

    async def neg_risk(self, request: web.Request) -> web.Response:
        market, failure = self._market_of_token(request)
        return failure or json_reply({"neg_risk": market.neg_risk})

    async def fee_rate(self, request: web.Request) -> web.Response:
        _, failure = self._market_of_token(request)
        return failure or json_reply({"base_fee": 0})

    async def markets_by_token(self, request: web.Request) -> web.Response:
        token = request.match_info["token_id"]
        market = self.sim.markets.by_token(token) if token.isdigit() else None
        if market is None:
            return error_reply(errors.MARKET_NOT_FOUND, 404)
        tokens = [o.token_id for o in market.outcomes]
        return json_reply({"condition_id": market.condition_id, "primary_token_id": tokens[0],
                           "secondary_token_id": tokens[1] if len(tokens) > 1 else ""})

    async def clob_market(self, request: web.Request) -> web.Response:
        market = self.sim.markets.by_condition(request.match_info["condition_id"])
        if market is None:
            return error_reply(errors.MARKET_NOT_FOUND, 404)
        return json_reply(views.clob_market(market))

    async def market(self, request: web.Request) -> web.Response:
        condition_id = request.match_info["condition_id"]
        if not condition_id.startswith("0x"):
            return error_reply(errors.INVALID_MARKET)
        market = self.sim.markets.by_condition(condition_id)
        if market is None:
            return error_reply(errors.MARKET_NOT_FOUND, 404)
        return json_reply(views.market_detail(market))

    async def markets(self, request: web.Request) -> web.Response:
        listed = [views.market_detail(m) for m in self.sim.markets]
        page = views.page(listed, request.query.get("next_cursor"))
        return json_reply(page) if page is not None else error_reply(errors.INVALID_PAYLOAD_SHORT)

    # --- books and prices ------------------------------------------------------------------------

    async def book(self, request: web.Request) -> web.Response:
        snapshot = self._snapshot(token_param(request))
        if isinstance(snapshot, web.Response):
            return snapshot
        return json_reply(views.book(snapshot))

    async def _batch(self, request: web.Request) -> list[dict] | web.Response:
        try:
            items = json.loads(await request.text())
        except ValueError:
            return error_reply(errors.INVALID_PAYLOAD_SHORT)
        if not isinstance(items, list) or not all(
                isinstance(i, dict) and str(i.get("token_id", "")).isdigit() for i in items):
            return error_reply(errors.INVALID_PAYLOAD_SHORT)
        if len(items) > MAX_BOOKS:
            return error_reply("Payload exceeds the limit")
        return items

    async def books(self, request: web.Request) -> web.Response:
        items = await self._batch(request)
        if isinstance(items, web.Response):
            return items
        snapshots = (self.engine.book(str(i["token_id"])) for i in items)
        return json_reply([views.book(s) for s in snapshots if s is not None])

    @staticmethod
    def _price_of(snapshot: BookSnapshot, side: str) -> str:
        # BUY reads the best bid and SELL the best ask, as production does
        best = snapshot.best_bid if side == "BUY" else snapshot.best_ask
        return number(best) if best is not None else "0"

    async def price(self, request: web.Request) -> web.Response:
        token = token_param(request)
        side = request.query.get("side", "").upper()
        if token is not None and side not in ("BUY", "SELL"):
            return error_reply(errors.INVALID_SIDE)
        snapshot = self._snapshot(token)
        if isinstance(snapshot, web.Response):
            return snapshot
        return json_reply({"price": self._price_of(snapshot, side)})

    async def prices(self, request: web.Request) -> web.Response:
        items = await self._batch(request)
        if isinstance(items, web.Response):
            return items
        result: dict[str, dict[str, str]] = {}
        for item in items:
            side = str(item.get("side", "")).upper()
            if side not in ("BUY", "SELL"):
                return error_reply(errors.INVALID_SIDE)
            snapshot = self.engine.book(str(item["token_id"]))
            if snapshot is not None:
                result.setdefault(snapshot.token_id, {})[side] = self._price_of(snapshot, side)
        return json_reply(result)

    @staticmethod
    def _mid(snapshot: BookSnapshot) -> str:
        if snapshot.best_bid is None or snapshot.best_ask is None:
            return "0"
        return number((snapshot.best_bid + snapshot.best_ask) / 2)

    @staticmethod
    def _spread(snapshot: BookSnapshot) -> str:
        if snapshot.best_bid is None or snapshot.best_ask is None:
            return "0"
        return number(snapshot.best_ask - snapshot.best_bid)

    async def midpoint(self, request: web.Request) -> web.Response:
        snapshot = self._snapshot(token_param(request))
        if isinstance(snapshot, web.Response):
            return snapshot
        return json_reply({"mid": self._mid(snapshot)})

    async def midpoints(self, request: web.Request) -> web.Response:
        return await self._per_token(request, self._mid)

    async def spread(self, request: web.Request) -> web.Response:
        snapshot = self._snapshot(token_param(request))
        if isinstance(snapshot, web.Response):
            return snapshot
        return json_reply({"spread": self._spread(snapshot)})

    async def spreads(self, request: web.Request) -> web.Response:
        return await self._per_token(request, self._spread)

    async def _per_token(self, request: web.Request,
                         value: Callable[[BookSnapshot], str]) -> web.Response:
        items = await self._batch(request)
        if isinstance(items, web.Response):
            return items
        snapshots = (self.engine.book(str(i["token_id"])) for i in items)
        return json_reply({s.token_id: value(s) for s in snapshots if s is not None})

    def _last_trade(self, token_id: str) -> dict[str, str]:
        market = self.sim.markets.by_token(token_id)
        price = market.last_trade_price.get(token_id) if market else None
        side = self.engine.last_side.get(token_id)
        return {"price": number(price) if price is not None else "0",
                "side": side.value if side else ""}

    async def last_trade_price(self, request: web.Request) -> web.Response:
        token = token_param(request)
        if token is None:
            return error_reply(errors.INVALID_TOKEN_ID)
        if self.sim.markets.by_token(token) is None:
            return error_reply(errors.NO_ORDERBOOK, 404)
        return json_reply(self._last_trade(token))

    async def last_trades_prices(self, request: web.Request) -> web.Response:
        items = await self._batch(request)
        if isinstance(items, web.Response):
            return items
        tokens = [str(i["token_id"]) for i in items]
        return json_reply([{"token_id": t, **self._last_trade(t)} for t in tokens
                           if self.sim.markets.by_token(t) is not None])
