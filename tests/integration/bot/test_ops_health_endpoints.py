"""/health and /metrics of a real engine detecting from the simulator's chain, and READY=1."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sources_helpers import WHALE, chain_source, clear_faults, fault, inject, load_markets

from polymarket_bot import RELEASE, __version__
from polymarket_bot.engine import Detector, Engine, EngineConfig
from polymarket_bot.events import RiskLimitHit
from polymarket_bot.execution.books import PublicBooks
from polymarket_bot.execution.paper import PaperExchange
from polymarket_bot.policy.limits import Limits, WalletRule
from polymarket_bot.service.health import HealthChecker, HealthServer
from polymarket_bot.service.metrics import Metrics
from polymarket_bot.service.systemd import Notifier, announce_ready
from polymarket_bot.sources.markets import MarketDirectory
from polymarket_bot.sources.stream import FillStream
from polymarket_bot.state.store import DB_FILE, Store
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration


@dataclass
class Running:
    engine: Engine
    store: Store
    metrics: Metrics
    server: HealthServer
    notify: socket.socket


@pytest.fixture
async def running(sim: RunningSim, tmp_path: Path) -> AsyncIterator[Running]:
    load_markets(sim)
    store = Store(tmp_path / DB_FILE)
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"])
    books = PublicBooks(sim.urls["clob"])
    chain = chain_source(sim, store)
    metrics = Metrics()
    engine = Engine(EngineConfig(max_fill_age=300), store=store,
                    exchange=PaperExchange(books, store),
                    detectors=[Detector(FillStream([chain], store, markets=markets), 0.1, "chain")],
                    markets=markets, limits=Limits(max_position_usdc=Decimal(1000),
                                                   max_daily_loss_usdc=Decimal(1000),
                                                   max_trades_per_hour=1000,
                                                   min_trade_interval_s=0,
                                                   wallets=(WalletRule(WHALE),)),
                    wallets=lambda: [WHALE], kill_switch=lambda: False,
                    on_event=metrics.on_event)
    checker = HealthChecker(engine=engine, store=store, rpc_url=sim.urls["rpc"],
                            clob_host=sim.urls["clob"], kill_switch=lambda: False,
                            probe_ttl=0.2, probe_timeout=0.5, detection_failing_after=60)
    server = HealthServer(checker, metrics, port=0)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    notifier = Notifier(env={"NOTIFY_SOCKET": str(tmp_path / "notify")})
    await server.start()
    ready = asyncio.create_task(announce_ready(engine, notifier))
    task = asyncio.create_task(engine.run())
    try:
        yield Running(engine, store, metrics, server, notify)
    finally:
        engine.stop()
        await task
        ready.cancel()
        await server.stop()
        for closer in (chain.aclose, markets.aclose, books.aclose):
            await closer()
        notifier.close()
        notify.close()
        store.close()


async def health(server: HealthServer) -> tuple[int, dict]:
    async with httpx.AsyncClient(trust_env=False) as client:
        reply = await client.get(f"{server.url}/health", timeout=5)
    return reply.status_code, reply.json()


async def wait_health(server: HealthServer, status: str) -> dict:
    deadline = time.monotonic() + 30
    document: dict = {}
    while time.monotonic() < deadline:
        code, document = await health(server)
        if document["status"] == status:
            assert code == (503 if status == "failing" else 200)
            return document
        await asyncio.sleep(0.1)
    raise AssertionError(f"/health never became {status}: {document}")


async def test_ready_after_the_first_cycle_then_health_fails_with_the_rpc_and_recovers(
        running: Running, sim: RunningSim) -> None:
    # READY=1 arrives only once the engine's first detection cycle succeeded
    message = (await asyncio.to_thread(running.notify.recv, 4096)).decode()
    assert message.startswith("READY=1\nSTATUS=watching 1 target wallets")
    assert running.engine.ready.is_set()

    document = await wait_health(running.server, "ok")
    components = document["components"]
    assert {"detection", "db", "rpc", "clob", "trading", "circuit_breaker"} <= set(components)
    assert components["detection"]["ready"] is True
    assert components["rpc"]["block_number"] > 0
    assert document["paused"] is False and document["kill_switch"] is False
    # what a deploy's health gate tells the new process from the old by
    assert (document["version"], document["release"], document["pid"]) == (
        __version__, RELEASE, os.getpid())

    fault(sim, service="rpc", kind="status", status=503)
    document = await wait_health(running.server, "failing")
    assert document["components"]["rpc"]["status"] == "failing"
    assert "503" in document["components"]["rpc"]["error"]
    assert sim.urls["rpc"] not in str(document)  # an RPC URL may carry an API key

    clear_faults(sim)
    await wait_health(running.server, "ok")

    # paused is reported, and is not a failure
    running.store.set_flag("paused", "1")
    document = await wait_health(running.server, "ok")
    assert document["paused"] is True and document["components"]["trading"]["paused"] is True


async def test_health_fails_when_the_chain_stalls(running: Running, sim: RunningSim) -> None:
    running.server.checker.rpc_stall_after = 1.0
    await wait_health(running.server, "ok")
    httpx.post(f"{sim.urls['admin']}/chain/stall", json={"on": True}).raise_for_status()
    try:
        document = await wait_health(running.server, "failing")
        assert document["components"]["rpc"]["error"] == "head not moving"
    finally:
        httpx.post(f"{sim.urls['admin']}/chain/stall", json={"on": False}).raise_for_status()
    await wait_health(running.server, "ok")


EXPECTED = {
    "polymarket_bot_trade_execution_success_ratio", "polymarket_bot_orders",
    "polymarket_bot_order_response_seconds", "polymarket_bot_error_ratio",
    "polymarket_bot_errors", "polymarket_bot_alert_delivery_success_ratio",
    "polymarket_bot_wallet_coverage_ratio", "polymarket_bot_daily_pnl_usdc",
    "polymarket_bot_volume_usdc_today", "polymarket_bot_open_positions",
    "polymarket_bot_position_cost_usdc", "polymarket_bot_risk_limit_hits",
    "polymarket_bot_decisions", "polymarket_bot_detection_age_seconds",
    "process_resident_memory_bytes", "process_cpu_seconds", "polymarket_bot_cpu_percent",
}


async def test_metrics_parse_and_count_a_copied_trade(running: Running, sim: RunningSim) -> None:
    await running.engine.ready.wait()
    inject(sim, WHALE, "rain", "Yes", "BUY", 0.53, 100)
    deadline = time.monotonic() + 30
    while running.engine.stats.orders_ok < 1:
        assert time.monotonic() < deadline, [(d["reason"], d["detail"], d["error"])
                                             for d in running.store.decisions()]
        await asyncio.sleep(0.1)
    running.engine.on_event(RiskLimitHit("daily_loss", Decimal(-5)))
    async with httpx.AsyncClient(trust_env=False) as client:
        reply = await client.get(f"{running.server.url}/metrics", timeout=5)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert set(families) >= EXPECTED, EXPECTED - set(families)

    def value(name: str, **labels: str) -> float:
        return next(s.value for s in families[name].samples
                    if s.name in (name, f"{name}_total") and s.labels == labels)

    assert value("polymarket_bot_orders", result="ok") == 1
    assert value("polymarket_bot_trade_execution_success_ratio") == 1
    assert value("polymarket_bot_decisions", action="copy", reason="copied") == 1
    assert value("polymarket_bot_risk_limit_hits", limit="daily_loss") == 1
    assert value("polymarket_bot_wallet_coverage_ratio") == 1
    assert value("polymarket_bot_open_positions") == 1
    assert value("polymarket_bot_volume_usdc_today") > 0
    assert value("process_resident_memory_bytes") > 0
    count = next(s.value for s in families["polymarket_bot_order_response_seconds"].samples
                 if s.name.endswith("_count") and s.labels["path"] == "detect_to_post")
    assert count == 1
