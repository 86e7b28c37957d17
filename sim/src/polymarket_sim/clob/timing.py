"""When a request reached the CLOB: the exchange's own time on it starts there (benches subtract
it from the bot's), so HMAC checks, fault injection and routing count as the exchange's."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Handler

RECEIVED = "polymarket_sim.received"


@web.middleware
async def stamp_received(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[RECEIVED] = time.perf_counter()
    return await handler(request)


def since_received(request: web.Request) -> float:
    """Seconds since the request reached the CLOB app."""
    return time.perf_counter() - request[RECEIVED]
