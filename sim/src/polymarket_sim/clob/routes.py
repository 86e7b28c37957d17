"""The CLOB V2 HTTP API: the routes py-clob-client-v2 calls, answered like clob.polymarket.com."""

from __future__ import annotations

from aiohttp import web

from ..context import Sim
from .engine import Engine
from .market_data import MarketData
from .timing import stamp_received
from .trading import Trading

ENGINE = web.AppKey("engine", Engine)


async def _not_found(request: web.Request) -> web.Response:
    # the real service is a Go server: unknown paths get its default 404
    return web.Response(status=404, text="404 page not found")


def build_app(sim: Sim) -> web.Application:
    """The CLOB service; creates `sim.engine` if the sim has none yet."""
    engine = sim.engine if sim.engine is not None else Engine(sim)
    app = web.Application(middlewares=[stamp_received])  # the fault injector comes after it
    app[ENGINE] = engine
    MarketData(sim, engine).add_routes(app)
    Trading(sim, engine).add_routes(app)
    app.router.add_route("*", "/{tail:.*}", _not_found)
    return app
