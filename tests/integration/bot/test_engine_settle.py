"""Every intent ends final, and alerts say what the bot will still do: the engine's sweeper
against the simulated CLOB, signing with the real py-clob-client-v2."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import httpx
import pytest
from test_execution_clob import add_fault, copy_of, exchange, intent, market, matches_of

from polymarket_bot.engine import Detector, Engine, EngineConfig
from polymarket_bot.events import Decided, Event, OrderDelayed, OrderFailed, Traded
from polymarket_bot.execution import ClobExchange
from polymarket_bot.models import IntentStatus, MarketInfo, OrderIntent, Side, TargetFill
from polymarket_bot.policy import reasons
from polymarket_bot.policy.limits import Limits, WalletRule
from polymarket_bot.service.alert_events import engine_event_handler
from polymarket_bot.service.alerts import AlertQueue
from polymarket_bot.service.health import HealthChecker
from polymarket_bot.sources.markets import MarketDirectory
from polymarket_bot.state import Store
from polymarket_sim.app import RunningSim

pytestmark = pytest.mark.integration
__all__ = ["exchange", "market"]  # fixtures, used by name
MAX_FILL_AGE = 300.0


class Events:
    """The engine's events but its decisions, in order."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    def __call__(self, event: Event) -> None:
        if not isinstance(event, Decided):
            self.seen.append(event)

    @property
    def kinds(self) -> list[type]:
        return [type(event) for event in self.seen]


@pytest.fixture
async def engine(sim: RunningSim, exchange: ClobExchange, tmp_path: Path
                 ) -> AsyncIterator[Engine]:
    store = Store(tmp_path / "state.db")
    markets = MarketDirectory(sim.urls["gamma"], sim.urls["clob"])
    limits = Limits(max_position_usdc=1000, max_daily_loss_usdc=1000)
    built = Engine(EngineConfig(max_fill_age=MAX_FILL_AGE, sweep_every=0.05), store=store,
                   exchange=exchange, detectors=[], markets=markets, limits=limits,
                   wallets=list, kill_switch=lambda: False, on_event=Events())
    yield built
    await markets.aclose()
    store.close()


def planned(engine: Engine, market: MarketInfo, size: str = "20") -> OrderIntent:
    """A FAK buy committed to the store, as detection leaves it for a worker."""
    order = intent(market, Side.BUY, size, "0.53")
    assert engine.store.record_detection(*copy_of(order), order)
    return order


def alert_texts(events: Events) -> list[str]:
    """The alerts these engine events become, in order."""
    queue = AlertQueue("123456:not-a-real-token", {"high": "-2", "medium": "-2"},
                       api_url="http://127.0.0.1:9")
    handler = engine_event_handler(queue)
    for event in events.seen:
        handler(event)
    return [alert.text for alert in queue._pending["-2"]]


def status(engine: Engine, order: OrderIntent) -> IntentStatus:
    return engine.store.intent(order.id).status


async def test_a_fak_answered_live_is_looked_up_until_final(
        sim: RunningSim, market: MarketInfo, engine: Engine) -> None:
    # the exchange filled the order but says `live`, as an independent CLOB did
    add_fault(sim, route="/order", method="POST", kind="answer", answer={"status": "live"},
              count=1)
    order = planned(engine, market)
    await engine.execute(order)
    assert status(engine, order) is IntentStatus.POSTED
    await engine.sweep()
    done = engine.store.intent(order.id)
    assert (done.status, done.error) == (IntentStatus.DONE, None)
    assert engine.store.position(market.token_id).size == 20
    assert engine.on_event.kinds == [Traded]


async def test_a_fak_the_exchange_keeps_calling_live_is_cancelled_once_overdue(
        sim: RunningSim, market: MarketInfo, engine: Engine) -> None:
    add_fault(sim, route="/order", method="POST", kind="answer", answer={"status": "live"},
              count=1)
    order = planned(engine, market)
    await engine.execute(order)
    # the next two lookups say LIVE too
    add_fault(sim, route="/data/order", kind="answer", answer={"status": "LIVE"}, count=2)
    cancels = add_fault(sim, route="/order", method="DELETE", kind="latency", latency=0)
    await engine.sweep()  # not overdue yet: asked, still live, nothing cancelled
    assert status(engine, order) is IntentStatus.POSTED
    # past the bound: cancelled, then looked up again (the exchange's real answer)
    await engine.sweep(now=order.created_at + engine.config.stuck_after + 1)
    assert status(engine, order) is IntentStatus.DONE
    faults = httpx.get(f"{sim.urls['admin']}/faults").json()
    assert next(f["hits"] for f in faults if f["id"] == cancels) == 1


async def test_a_post_out_of_retries_is_delayed_not_failed_then_fills_once(
        sim: RunningSim, market: MarketInfo, engine: Engine) -> None:
    fault = add_fault(sim, route="/order", method="POST", kind="status", status=503)
    order = planned(engine, market)
    await engine.execute(order)
    assert engine.on_event.kinds == [OrderDelayed]
    [delayed] = engine.on_event.seen
    assert isinstance(delayed, OrderDelayed)
    assert delayed.deadline == order.created_at + MAX_FILL_AGE
    assert status(engine, order) is IntentStatus.SIGNED
    await engine.sweep(now=order.created_at + engine.config.stuck_after + 1)  # still down
    assert engine.on_event.kinds == [OrderDelayed]  # told once, not once per retry
    httpx.delete(f"{sim.urls['admin']}/faults/{fault}").raise_for_status()
    await engine.sweep(now=order.created_at + engine.config.stuck_after + 1)
    done = engine.store.intent(order.id)
    assert (done.status, done.error) == (IntentStatus.DONE, None)  # no stale 503
    assert engine.on_event.kinds == [OrderDelayed, Traded]
    assert len(matches_of(sim, done.order_id)) == 1
    texts = alert_texts(engine.on_event)
    assert texts[0].startswith("⏳ ORDER DELAYED\nBUY 20 ")
    assert "keeps trying until" in texts[0] and "Do not place it by hand" in texts[0]
    assert texts[1].startswith("✅ TRADE EXECUTED") and len(texts) == 2


async def test_an_order_is_reported_failed_only_when_it_is_abandoned(
        sim: RunningSim, market: MarketInfo, engine: Engine) -> None:
    add_fault(sim, route="/order", method="POST", kind="status", status=503)
    order = planned(engine, market)
    await engine.execute(order)
    await engine.sweep(now=order.created_at + MAX_FILL_AGE + 1)
    failed = engine.store.intent(order.id)
    assert failed.status is IntentStatus.FAILED and "abandoned" in failed.error
    assert engine.on_event.kinds == [OrderDelayed, OrderFailed]
    assert matches_of(sim, failed.order_id) == []


async def test_the_sweeper_survives_an_unexpected_error_and_health_shows_it_alive(
        sim: RunningSim, market: MarketInfo, engine: Engine) -> None:
    running = asyncio.create_task(engine.run())
    while "sweep" not in engine.tasks.snapshot():  # started, and reconciled (nothing)
        await asyncio.sleep(0.01)
    add_fault(sim, route="/order", method="POST", kind="answer", answer={"status": "live"},
              count=1)
    order = planned(engine, market)
    await engine.execute(order)
    # an answer the bot cannot do arithmetic with: not an ExchangeError, the old sweeper died
    add_fault(sim, route="/data/order", kind="answer",
              answer={"status": "MATCHED", "size_matched": "NaN"}, count=3)
    try:
        deadline = time.monotonic() + 30
        while status(engine, order) is not IntentStatus.DONE:
            assert time.monotonic() < deadline, "the sweeper never settled the order"
            await asyncio.sleep(0.05)
        document = await HealthChecker(engine=engine).check()
    finally:
        engine.stop()
        await running
    tasks = document["components"]["tasks"]
    assert tasks["status"] == "ok"
    assert tasks["tasks"]["sweep"]["state"] == "running"
    assert engine.store.position(market.token_id).size == 20


async def test_a_task_that_keeps_failing_ends_the_run_with_exit_code_1(engine: Engine) -> None:
    engine.tasks.fatal_after, engine.tasks.max_delay = 2, 0

    async def broken() -> None:
        raise RuntimeError("a bug")

    running = asyncio.create_task(engine.run())
    while "sweep" not in engine.tasks.snapshot():
        await asyncio.sleep(0.01)
    engine.tasks.start("broken", broken)
    await asyncio.wait_for(running, 30)  # the run ends by itself: systemd restarts the bot
    assert (engine.exit_code, engine.tasks.fatal) == (1, "broken")


class OnePoll:
    """A source whose one poll returns a burst of fills (the engine's side of FillStream)."""

    def __init__(self, fills: list[TargetFill]) -> None:
        self.fills = fills
        self.sources: list = []
        self.failed_sources: list = []
        self.committed = False

    async def poll(self, wallets: object) -> list[TargetFill]:
        fills, self.fills = self.fills, []
        return fills

    def commit(self) -> None:
        self.committed = True


async def test_a_burst_counts_its_own_copies_against_the_hourly_limit(
        engine: Engine, market: MarketInfo) -> None:
    """The copies of the last hour are counted once per batch, then kept current by the
    batch's own copies: a burst cannot slip past MAX_TRADES_PER_HOUR."""
    whale = "0xf1E2612B0E5e9aC3138DC86aED01B0d3D15E443D"
    engine.limits = Limits(max_position_usdc=100_000, max_daily_loss_usdc=1000,
                           max_trades_per_hour=5, min_trade_interval_s=0,
                           wallets=(WalletRule(whale, confidence=1.0),))
    now = time.time()

    def burst(tag: str, n: int) -> list[TargetFill]:
        return [TargetFill(key=f"{tag}-{i}", wallet=whale, source="chain",
                           tx_hash="0x" + "cd" * 32, timestamp=now, token_id=market.token_id,
                           side=Side.BUY, size=D(10), price=D("0.53"), usdc_size=D("5.3"),
                           detected_at=now) for i in range(n)]

    source = OnePoll(burst("first", 12))
    assert await engine.detect_once(Detector(source, 1.0, "burst")) == 12
    assert engine.orders.qsize() == 5 and source.committed
    journal = engine.store.decisions(since=now - 1)
    assert sorted(d["reason"] for d in journal) == ([reasons.COPIED] * 5
                                                   + [reasons.TRADE_FREQUENCY] * 7)
    intents, decided = await engine.handle(burst("second", 3))
    assert intents == [] and {d.reason for _, d in decided} == {reasons.TRADE_FREQUENCY}
