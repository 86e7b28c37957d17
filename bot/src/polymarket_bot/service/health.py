"""`/health`: is the bot doing its job right now, component by component.

Overall state is the worst of the components that trading depends on (detection, the bot's
background tasks, db, rpc when a chain source detects, clob); an optional component that fails
(the alerts queue, an RPC used only for `connectivity`) only degrades it. `ok` and `degraded`
answer 200, `failing` 503, so a plain HTTP check (curl -f, a load balancer, systemd's
ExecStartPost) works without parsing the JSON.

Paused and kill-switch are an operator's decision, not a fault: they are reported (`trading`) and
leave the state alone. Upstream probes are cached a few seconds so a monitor scraping every second
costs the RPC provider one call per `probe_ttl`, and their errors are reported without URLs (an
RPC URL often carries the provider's API key).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web

from polymarket_bot import RELEASE, __version__
from polymarket_bot.sources.base import UpstreamError
from polymarket_bot.sources.http import Http
from polymarket_bot.sources.jsonrpc import JsonRpc, RpcCallError

from .http import LoopbackServer

State = Literal["ok", "degraded", "failing"]
RANK: dict[str, int] = {"ok": 0, "degraded": 1, "failing": 2}
PROBE_TTL = 5.0  # seconds a probe's answer is reused
PROBE_TIMEOUT = 2.0
RPC_STALL_AFTER = 60.0  # Polygon makes a block every ~2 s: a minute without one is an outage


@dataclass
class Probe:
    """One cached upstream check."""

    state: State
    detail: dict[str, Any]
    at: float  # monotonic time it ran


def _error(exc: BaseException) -> str:
    """What went wrong, without the URL (it may carry an API key)."""
    status = getattr(exc, "status", None)
    name = type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"{name} (HTTP {status})" if status else name


def _worst(states: Iterable[str]) -> State:
    worst: State = "ok"
    for state in states:
        if RANK.get(state, 2) > RANK[worst]:
            worst = state  # type: ignore[assignment]
    return worst


class HealthChecker:
    """Builds the `/health` document from the engine, the store and cached upstream probes.

    Every collaborator is optional, so the checker works for a bare process (tests, `dashboard`)
    and for the trader: `engine` (detectors, stats, breaker), `store` (the state DB), `rpc_url`,
    `clob_host`, `alerts` (duck-typed: `queue_depth`/`depth`/`qsize()`, `delivery_success_rate`
    or `sent`+`failed`), `kill_switch` (a callable: is the kill-switch file there?).
    """

    def __init__(self, *, engine: Any = None, store: Any = None, rpc_url: str | None = None,
                 clob_host: str | None = None, alerts: Any = None,
                 kill_switch: Callable[[], bool] | None = None, rpc_required: bool | None = None,
                 probe_ttl: float = PROBE_TTL, probe_timeout: float = PROBE_TIMEOUT,
                 rpc_stall_after: float = RPC_STALL_AFTER,
                 detection_degraded_after: float | None = None,
                 detection_failing_after: float | None = None) -> None:
        self.engine = engine
        self.store = store
        self.rpc_url = rpc_url
        self.clob_host = str(clob_host).rstrip("/") if clob_host else None
        self.alerts = alerts
        self.kill_switch = kill_switch
        self.rpc_required = rpc_required
        self.probe_ttl = probe_ttl
        self.probe_timeout = probe_timeout
        self.rpc_stall_after = rpc_stall_after
        self._degraded_after = detection_degraded_after
        self._failing_after = detection_failing_after
        self.started = time.time()
        self._http = Http(connections=4)
        self._rpc = JsonRpc(rpc_url, self._http, probe_timeout) if rpc_url else None
        self._probes: dict[str, Probe] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._head: int | None = None
        self._head_moved: float | None = None  # monotonic time the probed head last grew
        self.endpoints: Callable[[], dict[str, Any]] | None = None  # set by HealthServer

    async def aclose(self) -> None:
        await self._http.aclose()

    # ---- the document ---------------------------------------------------------------------

    async def check(self) -> dict[str, Any]:
        components: dict[str, dict[str, Any]] = {}
        required: set[str] = set()
        if self.engine is not None:
            components["detection"] = self._detection()
            required.add("detection")
            if getattr(self.engine, "tasks", None) is not None:
                components["tasks"] = self._tasks()
                required.add("tasks")
        if self.store is not None:
            components["db"] = await self._db()
            required.add("db")
        probes = []
        if self._rpc is not None:
            probes.append(("rpc", self._probe_rpc))
            if self._rpc_required():
                required.add("rpc")
        if self.clob_host:
            probes.append(("clob", self._probe_clob))
            required.add("clob")
        results = await asyncio.gather(*(self._cached(name, fn) for name, fn in probes))
        for (name, _), probe in zip(probes, results, strict=True):
            components[name] = {"status": probe.state,
                                "checked_seconds_ago": round(time.monotonic() - probe.at, 3),
                                **probe.detail}
        if self.alerts is not None:
            components["alerts"] = self._alerts()
        if self.endpoints is not None:
            components["endpoints"] = self.endpoints()
        trading = self._trading()
        components["trading"] = trading
        if self.engine is not None:
            components["circuit_breaker"] = self._breaker()
        status = _worst(c["status"] if name in required else
                        ("degraded" if c["status"] == "failing" else c["status"])
                        for name, c in components.items())
        # version, release and pid let a deploy's health gate tell the new process from the old
        return {"status": status, "time": time.time(),
                "uptime_seconds": round(time.time() - self.started, 3),
                "version": __version__, "release": RELEASE, "pid": os.getpid(),
                "paused": trading["paused"], "kill_switch": trading["kill_switch"],
                "components": components}

    def _rpc_required(self) -> bool:
        if self.rpc_required is not None:
            return self.rpc_required
        # the RPC is vital only when it detects fills; otherwise it only serves `connectivity`
        return self.engine is None or any(
            getattr(src, "name", "") == "chain" for src in self._sources())

    def _sources(self) -> list[Any]:
        if self.engine is None:
            return []
        return [src for det in self.engine.detectors
                for src in getattr(det.stream, "sources", [])]

    # ---- detection ------------------------------------------------------------------------

    def thresholds(self) -> tuple[float, float]:
        """(degraded, failing) seconds without a successful detection cycle, from the slowest
        detector's interval: a few missed polls degrade, many fail."""
        intervals = [d.interval for d in self.engine.detectors] if self.engine else []
        slowest = max(intervals, default=15.0)
        degraded = self._degraded_after or max(3 * slowest, 10.0)
        failing = self._failing_after or max(10 * slowest, 60.0, degraded)
        return degraded, failing

    def _detection(self) -> dict[str, Any]:
        engine = self.engine
        now = time.time()
        degraded, failing = self.thresholds()
        last = engine.stats.last_detection
        # before the first success, count from our start: a bot that never detects must fail
        age = now - (last if last is not None else self.started)
        state: State = "failing" if age > failing else "degraded" if age > degraded else "ok"
        if last is None and state == "ok":
            state = "degraded"  # still starting
        sources = {}
        for src in self._sources():
            success = getattr(src, "last_success", None)
            sources[getattr(src, "name", "?")] = {
                "last_success_age_seconds": round(now - success, 3) if success else None,
                "errors": getattr(src, "errors", None)}
        failed = sorted({name for det in engine.detectors
                         for name in getattr(det.stream, "failed_sources", ())})
        return {"status": state, "age_seconds": round(age, 3), "ready": last is not None,
                "cycles": engine.stats.cycles, "degraded_after": degraded,
                "failing_after": failing, "failed_sources": failed, "sources": sources}

    # ---- state DB -------------------------------------------------------------------------

    async def _db(self) -> dict[str, Any]:
        started = time.monotonic()
        try:
            # in a thread with a deadline: a DB stuck behind a lock must not hang /health
            await asyncio.wait_for(asyncio.to_thread(self.store.ping),
                                   self.probe_timeout)
        except Exception as exc:
            return {"status": "failing", "error": _error(exc)}
        latency = round((time.monotonic() - started) * 1000, 2)
        refused = getattr(self.store, "write_error", None)
        if refused is not None:  # readable, but the last write failed: nothing gets traded
            at, what = refused
            return {"status": "degraded", "latency_ms": latency, "error": f"write failed: {what}",
                    "write_failed_seconds_ago": round(time.time() - at, 3)}
        return {"status": "ok", "latency_ms": latency}

    # ---- background tasks -----------------------------------------------------------------

    def _tasks(self) -> dict[str, Any]:
        """Each supervised task: running, restarting after a crash, stalled, or dead."""
        tasks = self.engine.tasks.snapshot()
        return {"status": _worst(t["status"] for t in tasks.values()), "tasks": tasks}

    # ---- upstream probes ------------------------------------------------------------------

    async def _cached(self, name: str, probe: Callable[[], Any]) -> Probe:
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:  # concurrent scrapes share one probe
            cached = self._probes.get(name)
            if cached is not None and time.monotonic() - cached.at < self.probe_ttl:
                return cached
            started = time.monotonic()
            try:
                state, detail = await asyncio.wait_for(probe(), self.probe_timeout + 1)
            except (UpstreamError, RpcCallError, aiohttp.ClientError, TimeoutError,
                    ValueError) as exc:
                state, detail = "failing", {"error": _error(exc)}
            detail["latency_ms"] = round((time.monotonic() - started) * 1000, 2)
            result = Probe(state, detail, time.monotonic())
            self._probes[name] = result
            return result

    async def _probe_rpc(self) -> tuple[State, dict[str, Any]]:
        assert self._rpc is not None
        head = int(await self._rpc.call("eth_blockNumber", []), 16)
        now = time.monotonic()
        if self._head is None or head > self._head:
            self._head, self._head_moved = head, now
        still = now - (self._head_moved or now)
        detail: dict[str, Any] = {"block_number": head, "head_age_seconds": round(still, 3)}
        chain = next((s for s in self._sources() if getattr(s, "name", "") == "chain"), None)
        if chain is not None and chain.last_success:
            detail["chain_source_success_age_seconds"] = round(time.time() - chain.last_success,
                                                               3)
        if still > self.rpc_stall_after:
            detail["error"] = "head not moving"
            return "failing", detail
        return "ok", detail

    async def _probe_clob(self) -> tuple[State, dict[str, Any]]:
        timeout = aiohttp.ClientTimeout(total=self.probe_timeout)
        async with self._http.session.get(f"{self.clob_host}/ok", timeout=timeout) as reply:
            await reply.read()
            if reply.status != 200:
                return "failing", {"error": f"HTTP {reply.status}"}
        return "ok", {}

    # ---- alerts, trading switches ---------------------------------------------------------

    def _alerts(self) -> dict[str, Any]:
        depth = alerts_depth(self.alerts)
        rate = alerts_success_rate(self.alerts)
        state: State = "ok"
        if rate is not None and rate < 0.95:  # the runbook's alert-delivery threshold
            state = "degraded"
        return {"status": state, "queue_depth": depth, "delivery_success_rate": rate}

    def _trading(self) -> dict[str, Any]:
        paused = False
        if self.store is not None:
            try:
                paused = self.store.get_flag("paused") == "1"
            except Exception:  # the db component reports the store's trouble
                paused = False
        kill = False
        if self.kill_switch is not None:
            try:
                kill = bool(self.kill_switch())
            except OSError:
                kill = False
        note = ("kill switch on: no new orders" if kill else
                "paused: no new positions, exits managed" if paused else "trading")
        return {"status": "ok", "paused": paused, "kill_switch": kill, "note": note}

    def _breaker(self) -> dict[str, Any]:
        breaker = self.engine.breaker
        is_open = breaker.is_open(time.time())
        return {"status": "degraded" if is_open else "ok",
                "state": "open" if is_open else "closed", "errors": breaker.errors}


def _value(obj: Any, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value() if callable(value) else value
    return None


def alerts_depth(alerts: Any) -> int | None:
    value = _value(alerts, "queue_depth", "depth", "qsize")
    return int(value) if value is not None else None


def alerts_counts(alerts: Any) -> tuple[int, int] | None:
    """(delivered, failed) if the alerts object counts them."""
    for source in (alerts, getattr(alerts, "stats", None)):  # AlertQueue keeps them in .stats
        if source is None:
            continue
        sent = _value(source, "delivered", "sent")
        failed = _value(source, "failed", "failures")
        if sent is not None and failed is not None:
            return int(sent), int(failed)
    return None


def alerts_success_rate(alerts: Any) -> float | None:
    rate = _value(alerts, "delivery_success_rate", "success_rate")
    if rate is not None:
        return float(rate)
    counts = alerts_counts(alerts)
    if counts is None:
        return None
    total = sum(counts)
    return counts[0] / total if total else 1.0


class HealthServer:
    """`/health` and `/metrics` on loopback TCP and, with `unix_path` (the trader's
    `STATE_DIR/health.sock`), on the Unix socket its consumers trust: `await start()`,
    `await stop()`. A taken TCP port then only degrades /health (`endpoints`)."""

    def __init__(self, checker: HealthChecker, metrics: Any = None, *,
                 host: str = "127.0.0.1", port: int = 8765,
                 unix_path: Path | None = None) -> None:
        self.checker = checker
        self.metrics = metrics
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        self.server = LoopbackServer(app, host, port, unix_path=unix_path)
        checker.endpoints = self._endpoints

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()
        await self.checker.aclose()

    def _endpoints(self) -> dict[str, Any]:
        error = self.server.tcp_error
        return {"status": "degraded" if error else "ok",
                "socket": str(self.server.unix_path) if self.server.unix_path else None,
                "tcp": None if error else self.server.url,
                **({"error": error} if error else {})}

    async def _health(self, request: web.Request) -> web.Response:
        document = await self.checker.check()
        return web.json_response(document, status=503 if document["status"] == "failing" else 200)

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.metrics is None:
            raise web.HTTPNotFound(text="metrics are not enabled")
        self.metrics.collect_from(self.checker.engine, self.checker.store)
        body, content_type = self.metrics.render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response
