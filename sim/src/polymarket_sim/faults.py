"""Faults injected at run time: what a flaky upstream does to a client that must survive it.

A fault matches a service, a path prefix and optionally an HTTP method or JSON-RPC method, and
then answers with an error status, garbage, a hang, a dropped connection, or only adds latency;
or it lets the request through and rewrites fields of the JSON answer (`answer`): an exchange
that says `live` for an order it filled, as a CLOB written by someone else did.
Faults are finite (`count`) or last until cleared, so a test can say "the next three /book calls
get 429".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["status", "garbage", "timeout", "reset", "latency", "answer"]
Service = Literal["clob", "data", "gamma", "rpc", "telegram", "*"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What the real fronts answer: Cloudflare's 429 for the Polymarket APIs, an RPC provider's for rpc.
_STATUS_BODIES: dict[int, str] = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultSpec(BaseModel):
    """One fault, as the admin API accepts it."""

    model_config = ConfigDict(extra="forbid")

    service: Service = "*"
    route: str = Field(default="*", description="path prefix, or * for every path")
    method: str | None = Field(default=None, description="HTTP method, e.g. POST")
    rpc_method: str | None = Field(default=None, description="JSON-RPC method, e.g. eth_getLogs")
    kind: Kind = "status"
    status: int = Field(default=500, ge=400, le=599)
    latency: float = Field(default=0.0, ge=0, le=600, description="seconds added before answering")
    hang: float = Field(default=30.0, ge=0, le=600, description="seconds a timeout fault holds on")
    count: int | None = Field(default=None, ge=1,
                              description="requests to affect; None = until cleared")
    probability: float = Field(default=1.0, gt=0, le=1)
    answer: dict[str, Any] = Field(default_factory=dict,
                                   description="kind=answer: fields set in a JSON object reply")


class Fault:
    def __init__(self, fault_id: int, spec: FaultSpec) -> None:
        self.id = fault_id
        self.spec = spec
        self.remaining = spec.count
        self.hits = 0

    def as_dict(self) -> dict:
        return {"id": self.id, "hits": self.hits, "remaining": self.remaining,
                **self.spec.model_dump()}


class Faults:
    """The active faults, consulted by a middleware on every service."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: dict[int, Fault] = {}
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(next(self._ids), spec)
        self._faults[fault.id] = fault
        return fault

    def remove(self, fault_id: int) -> bool:
        return self._faults.pop(fault_id, None) is not None

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict]:
        return [fault.as_dict() for fault in self._faults.values()]

    def _take(self, service: str, path: str, method: str, rpc_methods: set[str]) -> Fault | None:
        for fault in list(self._faults.values()):
            spec = fault.spec
            if spec.service not in ("*", service):
                continue
            if spec.route != "*" and not path.startswith(spec.route):
                continue
            if spec.method and spec.method.upper() != method:
                continue
            if spec.rpc_method and spec.rpc_method not in rpc_methods:
                continue
            if spec.probability < 1 and self._random.random() >= spec.probability:
                continue
            fault.hits += 1
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.pop(fault.id, None)
            return fault
        return None

    def middleware(self, service: str):
        """An aiohttp middleware applying this registry's faults to one service."""

        @web.middleware
        async def apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
            if not self._faults:
                return await handler(request)
            rpc_methods = await _rpc_methods(request) if service == "rpc" else set()
            fault = self._take(service, request.path, request.method, rpc_methods)
            if fault is None:
                return await handler(request)
            return await _apply(fault.spec, request, handler)

        return apply_faults


async def _rpc_methods(request: web.Request) -> set[str]:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return set()
    calls = body if isinstance(body, list) else [body]
    return {call.get("method", "") for call in calls if isinstance(call, dict)}


async def _apply(spec: FaultSpec, request: web.Request, handler: Handler) -> web.StreamResponse:
    if spec.latency:
        await asyncio.sleep(spec.latency)
    if spec.kind == "latency":
        return await handler(request)
    if spec.kind == "answer":
        return _rewritten(await handler(request), spec.answer)
    if spec.kind == "status":
        text = _STATUS_BODIES.get(spec.status, "error")
        return web.json_response({"error": text}, status=spec.status)
    if spec.kind == "garbage":
        # a 200 whose body is not what the client expects: truncated JSON behind an HTML proxy page
        return web.Response(status=200, text='<html><body>upstream error</body></html>{"data": [',
                            content_type="application/json")
    if spec.kind == "timeout":
        await asyncio.sleep(spec.hang)
        return web.json_response({"error": "Gateway Timeout"}, status=504)
    # reset: drop the connection without an answer
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def _rewritten(response: web.StreamResponse, fields: dict[str, Any]) -> web.StreamResponse:
    """The handler's JSON object answer with `fields` set (anything else passes unchanged)."""
    if not isinstance(response, web.Response) or response.content_type != "application/json":
        return response
    try:
        body = json.loads(response.body or b"null")
    except (TypeError, ValueError):
        return response
    if not isinstance(body, dict):
        return response
    return web.json_response({**body, **fields}, status=response.status)
