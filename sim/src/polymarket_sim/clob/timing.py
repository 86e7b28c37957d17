"""When a request reached the CLOB: the exchange's own time on it starts there (benches subtract
it from the bot's), so HMAC checks, fault injection and routing count as the exchange's."""

from __future__ import annotations

import time
from contextvars import ContextVar

from aiohttp import web
from aiohttp.typedefs import Handler

# A context variable, not request storage: the handler runs in the middleware's task, and
# typed request keys (web.RequestKey) only exist from aiohttp 3.14.
_RECEIVED: ContextVar[float] = ContextVar("polymarket_sim_received")


@web.middleware
async def stamp_received(request: web.Request, handler: Handler) -> web.StreamResponse:
    _RECEIVED.set(time.perf_counter())
    return await handler(request)


def since_received() -> float:
    """Seconds since the request being handled reached the CLOB app."""
    return time.perf_counter() - _RECEIVED.get()
