"""The admin API: what tests, the demo and operators use to steer a running simulator.

Inject trades and funds, load scenarios, add faults (429/5xx/timeouts/garbage/latency per route),
stall the chain, read what the Telegram fake received, and read back every match the exchange made.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import actions, resolution
from . import scenario as scenarios
from .context import Sim
from .core import Match, Side
from .faults import FaultSpec
from .geoblock import Geoblock

if TYPE_CHECKING:
    from .app import Simulator

SIMULATOR = web.AppKey("simulator", object)
SIM = web.AppKey("sim", Sim)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRef(_Body):
    token_id: str | None = None
    market: str | None = None
    outcome: str | int | None = None

    def token(self, sim: Sim) -> str:
        if self.token_id:
            if sim.markets.by_token(self.token_id) is None:
                raise actions.ActionError(f"unknown token_id {self.token_id}")
            return self.token_id
        if self.market is None or self.outcome is None:
            raise actions.ActionError("give token_id, or market and outcome")
        return actions.resolve_token(sim, self.market, self.outcome)


class TradeBody(TokenRef):
    trader: str
    side: Side
    price: Decimal = Field(gt=0, lt=1)
    size: Decimal = Field(gt=0)
    role: str = "taker"


class LiquidityBody(TokenRef):
    side: Side
    price: Decimal = Field(gt=0, lt=1)
    size: Decimal = Field(gt=0)


class FundBody(_Body):
    address: str
    collateral: Decimal = Field(default=Decimal(0), ge=0)
    allowance: Decimal | None = Field(default=None, ge=0)
    shares: dict[str, Decimal] = Field(default_factory=dict)
    pol: Decimal = Field(default=Decimal(0), ge=0, description="POL for gas")
    approvals: bool = True


class ResolveBody(_Body):
    market: str | None = None
    condition_id: str | None = None
    winner: str | int


class GeoblockBody(_Body):
    blocked: bool = False
    country: str = Field(default="IE", min_length=2, max_length=2)
    region: str = Field(default="L", max_length=8)
    ip: str = "127.0.0.1"
    close_only: bool = False


class ConfigBody(_Body):
    positions_lag: float | None = Field(default=None, ge=0, le=86_400)


class StallBody(_Body):
    on: bool = True


class UpdateBody(_Body):
    """A message "typed" in a chat; `from_*` is the sender (default: the chat's own person)."""

    chat_id: int
    text: str
    from_id: int | None = None
    from_username: str | None = "operator"
    from_first_name: str = "Operator"
    from_is_bot: bool = False
    from_anonymous: bool = False  # a group admin posting anonymously (sender_chat = the group)


class OutageBody(_Body):
    on: bool = True


def build_app(sim: Sim) -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[SIM] = sim
    app.router.add_get("/health", _health)
    app.router.add_get("/state", _state)
    app.router.add_get("/faults", _faults_list)
    app.router.add_post("/faults", _faults_add)
    app.router.add_delete("/faults", _faults_clear)
    app.router.add_delete("/faults/{fault_id}", _faults_remove)
    app.router.add_post("/chain/stall", _chain_stall)
    app.router.add_post("/fund", _fund)
    app.router.add_post("/liquidity", _liquidity)
    app.router.add_post("/trades", _trade)
    app.router.add_get("/matches", _matches)
    app.router.add_get("/matches/count", _matches_count)
    app.router.add_get("/order-seconds", _order_seconds)
    app.router.add_post("/scenario", _scenario)
    app.router.add_post("/resolve", _resolve)
    app.router.add_get("/geoblock", _geoblock_get)
    app.router.add_post("/geoblock", _geoblock_set)
    app.router.add_get("/config", _config_get)
    app.router.add_post("/config", _config_set)
    app.router.add_get("/telegram/messages", _telegram_messages)
    app.router.add_post("/telegram/updates", _telegram_update)
    app.router.add_post("/telegram/outage", _telegram_outage)
    return app


def attach(app: web.Application, simulator: Simulator) -> None:
    app[SIMULATOR] = simulator


@web.middleware
async def _errors(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                    for e in exc.errors()]
        return web.json_response({"error": "; ".join(problems)}, status=400)
    except (actions.ActionError, json.JSONDecodeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)


async def _body(request: web.Request, model: type[BaseModel]) -> Any:
    raw = await request.read()
    return model.model_validate_json(raw or b"{}")


def _sim(request: web.Request) -> Sim:
    return request.app[SIM]


async def _health(request: web.Request) -> web.Response:
    simulator = request.app.get(SIMULATOR)
    return web.json_response({"ok": True, "urls": simulator.urls if simulator else {}})


async def _state(request: web.Request) -> web.Response:
    sim = _sim(request)
    statuses: dict[str, int] = {}
    for match in sim.ledger.matches:
        statuses[match.status] = statuses.get(match.status, 0) + 1
    return web.json_response({
        "chain_id": sim.chain_id,
        "markets": sum(1 for _ in sim.markets),
        "matches": statuses,
        "block_number": sim.chain.block_number if sim.chain else None,
        "telegram_messages": len(sim.telegram.messages()) if sim.telegram else 0,
        "faults": sim.faults.list(),
    })


async def _faults_list(request: web.Request) -> web.Response:
    return web.json_response(_sim(request).faults.list())


async def _faults_add(request: web.Request) -> web.Response:
    fault = _sim(request).faults.add(await _body(request, FaultSpec))
    return web.json_response(fault.as_dict(), status=201)


async def _faults_clear(request: web.Request) -> web.Response:
    _sim(request).faults.clear()
    return web.json_response({"cleared": True})


async def _faults_remove(request: web.Request) -> web.Response:
    removed = _sim(request).faults.remove(int(request.match_info["fault_id"]))
    return web.json_response({"removed": removed}, status=200 if removed else 404)


async def _chain_stall(request: web.Request) -> web.Response:
    body = await _body(request, StallBody)
    sim = _sim(request)
    sim.chain.stall(body.on)
    return web.json_response({"stalled": body.on, "block_number": sim.chain.block_number})


async def _fund(request: web.Request) -> web.Response:
    body = await _body(request, FundBody)
    actions.fund(_sim(request), body.address, body.collateral, body.allowance, body.shares,
                 pol=body.pol, approvals=body.approvals)
    return web.json_response({"funded": body.address})


async def _resolve(request: web.Request) -> web.Response:
    """End a market now: `{"market": slug | "condition_id": id, "winner": name | index}`."""
    body = await _body(request, ResolveBody)
    market = body.market or body.condition_id
    if not market:
        raise actions.ActionError("give market (slug) or condition_id")
    resolved = resolution.resolve(_sim(request), market, body.winner)
    return web.json_response({"resolved": [
        {"market": m.slug, "condition_id": m.condition_id, "neg_risk": m.neg_risk,
         "winner": m.outcomes[m.payouts.index(1)].name if m.payouts else None,
         "payouts": m.payouts} for m in resolved]})


async def _geoblock_get(request: web.Request) -> web.Response:
    return web.json_response(asdict(_sim(request).geoblock))


async def _geoblock_set(request: web.Request) -> web.Response:
    """What `GET /api/geoblock` answers and the CLOB enforces from now on."""
    body = await _body(request, GeoblockBody)
    sim = _sim(request)
    sim.geoblock = Geoblock(**body.model_dump())
    return web.json_response(asdict(sim.geoblock))


async def _config_get(request: web.Request) -> web.Response:
    return web.json_response({"positions_lag": _sim(request).positions_lag})


async def _config_set(request: web.Request) -> web.Response:
    body = await _body(request, ConfigBody)
    sim = _sim(request)
    if body.positions_lag is not None:
        sim.positions_lag = body.positions_lag
    return web.json_response({"positions_lag": sim.positions_lag})


async def _liquidity(request: web.Request) -> web.Response:
    body = await _body(request, LiquidityBody)
    sim = _sim(request)
    order_id = actions.add_liquidity(sim, body.token(sim), body.side, body.price, body.size)
    return web.json_response({"order_id": order_id}, status=201)


async def _trade(request: web.Request) -> web.Response:
    body = await _body(request, TradeBody)
    sim = _sim(request)
    result = actions.trade(sim, body.trader, body.token(sim), body.side, body.price, body.size,
                           body.role)
    return web.json_response(result.as_dict(), status=201)


def _queried_matches(request: web.Request) -> list[Match]:
    """Every match the exchange made, or those of `?address=`."""
    ledger = _sim(request).ledger
    address = request.query.get("address")
    return ledger.for_address(address) if address else list(ledger.matches)


async def _matches(request: web.Request) -> web.Response:
    """The queried matches: the ground truth for tests."""
    return web.json_response([match_dict(m) for m in _queried_matches(request)])


async def _matches_count(request: web.Request) -> web.Response:
    """How many matches `/matches` would return: for pollers that wait for a number (benches)."""
    return web.json_response({"count": len(_queried_matches(request))})


async def _order_seconds(request: web.Request) -> web.Response:
    """How long the CLOB took to answer each POST /order, by order id (for benches)."""
    return web.json_response(_sim(request).order_seconds)


def match_dict(match: Match) -> dict:
    return {
        "match_id": match.match_id,
        "taker_order_id": match.taker_order_id,
        "taker": match.taker,
        "taker_owner": match.taker_owner,
        "side": match.side,
        "condition_id": match.condition_id,
        "token_id": match.token_id,
        "price": str(match.price),
        "size": str(match.size),
        "status": match.status,
        "tx_hash": match.tx_hash,
        "block_number": match.block_number,
        "log_indexes": match.log_indexes,
        "match_time": match.match_time,
        "confirmed_at": match.confirmed_at,
        "makers": [{"order_id": m.order_id, "maker": m.maker, "side": m.side,
                    "token_id": m.token_id, "price": str(m.price), "size": str(m.size)}
                   for m in match.makers],
    }


async def _scenario(request: web.Request) -> web.Response:
    """Load more markets/accounts/traders into the running simulator and play them from now."""
    sim = _sim(request)
    existing = {m.slug: [o.name for o in m.outcomes] for m in sim.markets}
    scenario = scenarios.Scenario.model_validate_json(await request.read() or b"{}",
                                                      context={"markets": existing})
    scenarios.apply(sim, scenario)
    simulator = request.app.get(SIMULATOR)
    if simulator is not None:
        simulator.play(scenario)
    return web.json_response({"loaded": scenario.name, "markets": len(scenario.markets)})


async def _telegram_messages(request: web.Request) -> web.Response:
    chat = request.query.get("chat_id")
    messages = _sim(request).telegram.messages(int(chat) if chat else None)
    return web.json_response(messages)


async def _telegram_update(request: web.Request) -> web.Response:
    body = await _body(request, UpdateBody)
    update = _sim(request).telegram.inject_update(
        body.chat_id, body.text, body.from_id, first_name=body.from_first_name,
        username=body.from_username, is_bot=body.from_is_bot, anonymous=body.from_anonymous)
    return web.json_response(update, status=201)


async def _telegram_outage(request: web.Request) -> web.Response:
    body = await _body(request, OutageBody)
    _sim(request).telegram.set_outage(body.on)
    return web.json_response({"outage": body.on})
