"""Fake Gamma API: market metadata as `gamma-api.polymarket.com` serves it.

The fields that trip clients are reproduced on purpose: `outcomes`, `outcomePrices` and
`clobTokenIds` are JSON-encoded strings, `volume`/`liquidity` are strings, and `/markets` hides
closed markets unless `closed=true` is asked for (the real default since 2026-04).
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from aiohttp import web
from eth_utils import keccak

from .context import Sim
from .core import Market, Match

MAX_LIMIT = 100  # Gamma serves at most 100 markets per page
MAX_OFFSET = 2000  # deeper offsets get 422; the real service wants the keyset routes there
WIDE_SPREAD = Decimal("0.10")  # past this the UI (and curPrice) shows the last trade, not the mid
_FIRST_MARKET_ID = 500_001
_FIRST_EVENT_ID = 90_001


# --- identifiers and prices shared with the Data API ----------------------------------------------

def market_ids(sim: Sim) -> dict[str, int]:
    """Numeric Gamma ids by condition id: stable for a run (markets are never removed)."""
    return {m.condition_id: _FIRST_MARKET_ID + i for i, m in enumerate(sim.markets)}


def event_slug(market: Market) -> str:
    return market.event_slug or market.slug


def event_ids(sim: Sim) -> dict[str, int]:
    """Numeric event ids by event slug, in order of the first market of each event."""
    ids: dict[str, int] = {}
    for market in sim.markets:
        ids.setdefault(event_slug(market), _FIRST_EVENT_ID + len(ids))
    return ids


def best_quote(sim: Sim, token_id: str) -> tuple[Decimal | None, Decimal | None]:
    """Best bid and ask of a token from the CLOB engine, (None, None) if there is no engine.

    The engine is another component; read its book defensively (objects or dicts, any level shape).
    """
    engine = sim.engine
    if engine is None:
        return None, None
    try:
        book = engine.book(token_id)
    except Exception:  # an unknown token or an engine without books is just "no quote"
        return None, None
    if book is None:
        return None, None
    bids = _level_prices(_field(book, "bids"))
    asks = _level_prices(_field(book, "asks"))
    return (max(bids) if bids else None), (min(asks) if asks else None)


def current_price(sim: Sim, market: Market, token_id: str) -> Decimal | None:
    """What polymarket.com shows as the price: the mid, or the last trade if the spread is wide."""
    bid, ask = best_quote(sim, token_id)
    last = market.last_trade_price.get(token_id)
    if bid is not None and ask is not None:
        mid = (bid + ask) / 2
        if ask - bid <= WIDE_SPREAD or last is None:
            return mid
        return last
    return last if last is not None else (bid if bid is not None else ask)


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _level_prices(levels: Any) -> list[Decimal]:
    prices: list[Decimal] = []
    for level in levels or ():
        if isinstance(level, (tuple, list)):
            raw = level[0]
        elif isinstance(level, dict):
            raw = level.get("price")
        else:
            raw = getattr(level, "price", None)
        try:
            prices.append(Decimal(str(raw)))
        except (ArithmeticError, ValueError, TypeError):
            continue
    return prices


def num(value: Decimal | float | int) -> int | float:
    """A JSON number as the real APIs print it: 5 rather than 5.0, 0.01 rather than "0.01"."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


# --- volume, kept up to date from confirmed matches -----------------------------------------------

class Volumes:
    """Traded pUSD per condition id, from matches the chain confirmed."""

    def __init__(self, sim: Sim) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._by_condition: dict[str, Decimal] = defaultdict(Decimal)
        sim.ledger.on_confirm(self._add)
        for match in list(sim.ledger.confirmed()):
            self._add(match)

    def _add(self, match: Match) -> None:
        with self._lock:
            if match.match_id in self._seen:
                return
            self._seen.add(match.match_id)
            self._by_condition[match.condition_id] += match.price * match.size

    def get(self, condition_id: str) -> Decimal:
        return self._by_condition.get(condition_id, Decimal(0))


# --- rendering ------------------------------------------------------------------------------------

def _price_text(price: Decimal) -> str:
    return format(price.normalize(), "f")


def _outcome_prices(sim: Sim, market: Market) -> list[str]:
    if market.payouts is not None:  # resolved: the final prices, "1" for the winner
        return [str(payout) for payout in market.payouts]
    even = Decimal(1) / len(market.outcomes)
    prices = []
    for outcome in market.outcomes:
        price = current_price(sim, market, outcome.token_id)
        prices.append(_price_text(price if price is not None else even.quantize(Decimal("0.001"))))
    return prices


def _liquidity(sim: Sim, market: Market) -> Decimal:
    """Resting pUSD on the market's books (0 without an engine)."""
    total = Decimal(0)
    if sim.engine is None:
        return total
    # a binary market's first book already shows the other outcome's orders (as 1 - p)
    outcomes = market.outcomes[:1] if len(market.outcomes) == 2 else market.outcomes
    for outcome in outcomes:
        try:
            book = sim.engine.book(outcome.token_id)
        except Exception:
            continue
        for side in ("bids", "asks"):
            for level in _field(book, side) or ():
                try:
                    if isinstance(level, (tuple, list)):
                        price, size = level[0], level[1]
                    else:
                        price, size = _field(level, "price"), _field(level, "size")
                    total += Decimal(str(price)) * Decimal(str(size))
                except (ArithmeticError, ValueError, TypeError, IndexError):
                    continue
    return total


def _event(market: Market, event_id: int) -> dict[str, Any]:
    slug = event_slug(market)
    return {
        "id": str(event_id),
        "ticker": slug,
        "slug": slug,
        "title": market.question,
        "active": market.active,
        "closed": market.closed,
        "archived": False,
        "endDate": market.end_date,
        "enableOrderBook": True,
        "negRisk": market.neg_risk,
        "enableNegRisk": market.neg_risk,
    }


def render_market(sim: Sim, market: Market, market_id: int, event_id: int,
                  volumes: Volumes) -> dict[str, Any]:
    token = market.outcomes[0].token_id
    bid, ask = best_quote(sim, token)
    last = market.last_trade_price.get(token)
    volume = volumes.get(market.condition_id)
    liquidity = _liquidity(sim, market)
    slug = event_slug(market)
    body: dict[str, Any] = {
        "id": str(market_id),
        "question": market.question,
        "conditionId": market.condition_id,
        "slug": market.slug,
        "endDate": market.end_date,
        "endDateIso": market.end_date[:10],
        "description": market.question,
        "outcomes": json.dumps([o.name for o in market.outcomes]),
        "outcomePrices": json.dumps(_outcome_prices(sim, market)),
        "clobTokenIds": json.dumps([o.token_id for o in market.outcomes]),
        "volume": _price_text(volume),
        "volumeNum": float(volume),
        "volumeClob": float(volume),
        "liquidity": _price_text(liquidity),
        "liquidityNum": float(liquidity),
        "liquidityClob": float(liquidity),
        "active": market.active,
        "closed": market.closed,
        "archived": False,
        "restricted": True,
        "enableOrderBook": True,
        "acceptingOrders": market.active and not market.closed,
        "orderPriceMinTickSize": num(market.tick_size),
        "orderMinSize": num(market.min_order_size),
        "negRisk": market.neg_risk,
        "negRiskOther": False,
        "questionID": "0x" + keccak(text=f"question:{market.condition_id}").hex(),
        "lastTradePrice": float(last) if last is not None else 0,
        "bestBid": float(bid) if bid is not None else 0,
        "bestAsk": float(ask) if ask is not None else 1,
        "spread": float(ask - bid) if bid is not None and ask is not None else 1,
        "events": [_event(market, event_id)],
        "version": "v1",
    }
    if market.resolved:
        body["umaResolutionStatus"] = "resolved"
        body["closedTime"] = time.strftime("%Y-%m-%d %H:%M:%S+00",
                                           time.gmtime(market.resolved_at or 0))
    if market.neg_risk:
        body["negRiskMarketID"] = "0x" + keccak(text=f"negrisk:{slug}").hex()
        body["negRiskRequestID"] = "0x" + keccak(text=f"request:{market.condition_id}").hex()
    return body


# --- HTTP -----------------------------------------------------------------------------------------

def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"type": kind, "error": message}, status=status)


def _bool_param(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"invalid boolean for {name}: {raw}")


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)  # ValueError for garbage, turned into 422 by the caller
    if value < 0:
        raise ValueError(f"{name} must be >= 0")
    return value


def _multi(request: web.Request, name: str) -> set[str]:
    """A repeatable filter, also accepting comma lists (clients do both)."""
    values: set[str] = set()
    for raw in request.query.getall(name, []):
        values.update(part.strip() for part in raw.split(",") if part.strip())
    return values


class GammaApp:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.volumes = Volumes(sim)

    def _rendered(self, markets: list[Market]) -> list[dict[str, Any]]:
        ids = market_ids(self.sim)
        events = event_ids(self.sim)
        return [render_market(self.sim, m, ids[m.condition_id], events[event_slug(m)],
                              self.volumes) for m in markets]

    async def markets(self, request: web.Request) -> web.Response:
        try:
            limit = min(_int_param(request, "limit", MAX_LIMIT), MAX_LIMIT)
            offset = _int_param(request, "offset", 0)
            active = _bool_param(request, "active")
            closed = _bool_param(request, "closed")
            archived = _bool_param(request, "archived")
            ids = {int(v) for v in _multi(request, "id")}
        except ValueError as exc:
            return _error(422, "validation error", str(exc))
        if offset > MAX_OFFSET:
            return _error(422, "validation error", f"offset must be <= {MAX_OFFSET}")
        closed = False if closed is None else closed
        tokens = _multi(request, "clob_token_ids")
        conditions = {c.lower() for c in _multi(request, "condition_ids")}
        slugs = _multi(request, "slug")
        market_id = market_ids(self.sim)
        selected = [
            m for m in self.sim.markets
            if m.closed == closed
            and (active is None or m.active == active)
            and (archived is None or archived is False)
            and (not ids or market_id[m.condition_id] in ids)
            and (not slugs or m.slug in slugs)
            and (not conditions or m.condition_id.lower() in conditions)
            and (not tokens or any(o.token_id in tokens for o in m.outcomes))
        ]
        return web.json_response(self._rendered(selected[offset:offset + limit]))

    async def market_by_id(self, request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        if not raw.isdigit():
            return _error(422, "validation error", "invalid id")
        wanted = int(raw)
        for condition_id, market_id in market_ids(self.sim).items():
            if market_id == wanted:
                market = self.sim.markets.by_condition(condition_id)
                if market is not None:
                    return web.json_response(self._rendered([market])[0])
        return _error(404, "not found error", "id not found")

    async def market_by_slug(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        market = next((m for m in self.sim.markets if m.slug == slug), None)
        if market is None:
            return _error(404, "not found error", "id not found")
        return web.json_response(self._rendered([market])[0])

    def _render_event(self, slug: str, markets: list[Market]) -> dict[str, Any]:
        first = markets[0]
        body = _event(first, event_ids(self.sim)[slug])
        body["title"] = first.question if len(markets) == 1 else slug
        body["markets"] = self._rendered(markets)
        return body

    def _events(self) -> dict[str, list[Market]]:
        grouped: dict[str, list[Market]] = {}
        for market in self.sim.markets:
            grouped.setdefault(event_slug(market), []).append(market)
        return grouped

    async def events(self, request: web.Request) -> web.Response:
        try:
            limit = min(_int_param(request, "limit", MAX_LIMIT), MAX_LIMIT)
            offset = _int_param(request, "offset", 0)
            closed = _bool_param(request, "closed")
            ids = {int(v) for v in _multi(request, "id")}
        except ValueError as exc:
            return _error(422, "validation error", str(exc))
        slugs = _multi(request, "slug")
        numeric = event_ids(self.sim)
        chosen = [
            (slug, markets) for slug, markets in self._events().items()
            if (not slugs or slug in slugs) and (not ids or numeric[slug] in ids)
            and (closed is None or all(m.closed for m in markets) == closed)
        ]
        page = chosen[offset:offset + limit]
        return web.json_response([self._render_event(slug, ms) for slug, ms in page])

    async def geoblock(self, request: web.Request) -> web.Response:
        return web.json_response(self.sim.geoblock.answer())

    async def event_by_slug(self, request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        markets = self._events().get(slug)
        if not markets:
            return _error(404, "not found error", "id not found")
        return web.json_response(self._render_event(slug, markets))


def build_app(sim: Sim) -> web.Application:
    gamma = GammaApp(sim)
    app = web.Application()
    app.router.add_get("/markets", gamma.markets)
    app.router.add_get("/markets/slug/{slug}", gamma.market_by_slug)
    app.router.add_get("/markets/{id}", gamma.market_by_id)
    app.router.add_get("/events", gamma.events)
    app.router.add_get("/events/slug/{slug}", gamma.event_by_slug)
    # polymarket.com's geoblock check; the simulator serves it next to Gamma
    app.router.add_get("/api/geoblock", gamma.geoblock)
    return app
