"""AlertQueue against the simulator's Telegram fake: routing, coalescing, 429, outages, restarts."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
from decimal import Decimal

from alerts_helpers import (
    CHATS,
    CRITICAL,
    HIGH,
    MEDIUM,
    TOKEN,
    make_queue,
    running,
    texts,
    wait_messages,
)

from polymarket_bot.events import BreakerOpened, Decided, OrderFailed, RiskLimitHit, Traded
from polymarket_bot.models import Action, Decision, OrderIntent, OrderResult, Side
from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service.alert_events import engine_event_handler
from polymarket_bot.service.alerts import PENDING_FILE, AlertQueue

WALLET = "0x1111111111111111111111111111111111111111"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _every_type() -> list[tuple[str, str, str]]:
    return [
        msg.startup("paper", "polygon (137)", 2),
        msg.trade_executed(side="BUY", size=Decimal("10"), price=Decimal("0.55"),
                           market="Will it rain?", wallet=WALLET, label="whale"),
        msg.skipped_summary({"price_band": 3, "max_position": 1}, 900),
        msg.error("RPC unreachable", "connection refused"),
        msg.order_error(side="SELL", size=Decimal("4"), market="token 123", error_text="boom"),
        msg.risk_limit("daily_loss", Decimal("-101")),
        msg.circuit_breaker(5),
        msg.daily_pnl("2026-01-01", Decimal("12.5"), Decimal("10"), 7, 3),
        msg.operator("DEPLOYED v1.2.3", "medium"),
        msg.operator("ROLLBACK COMPLETED", "high"),
        msg.operator("routine note", "low"),
    ]


async def test_every_alert_type_arrives_once_in_its_chat(sim) -> None:
    queue = make_queue(sim, linger=0.05)
    expected: dict[str, list[str]] = {CRITICAL: [], HIGH: [], MEDIUM: []}
    async with running(queue):
        for kind, text, severity in _every_type():
            queue.submit(kind, text, severity)
            if severity != "low":
                expected[CHATS[severity]].append(text)
            # one at a time, so each is its own message and can be compared whole
            assert await queue.drain(20)
    for chat, wanted in expected.items():
        assert texts(sim, chat) == wanted
    assert len(texts(sim)) == 10  # the low one was only logged
    assert queue.stats.delivered == 10 and queue.stats.logged_only == 1
    assert queue.stats.failed == 0 and queue.success_rate == 1.0
    assert "whale (0x1111…1111)" in expected[MEDIUM][1]


async def test_on_the_way_out_nothing_lingers(sim) -> None:
    """A switch's trading gap lasts until the old process exits: its last alerts go at once,
    not after the linger that batches a burst."""
    queue = make_queue(sim, linger=60.0, chats={"critical": MEDIUM, "high": MEDIUM,
                                                "medium": MEDIUM})
    async with running(queue):
        queue.submit(*msg.trade_executed(side="BUY", size=Decimal("3"), price="0.5",
                                         market="mkt-last", wallet=WALLET))
        await asyncio.sleep(0.2)
        assert queue.queue_depth == 1  # held for a batch
        assert await queue.drain(5, shutdown=True)
    assert len(texts(sim, MEDIUM)) == 1


async def test_burst_becomes_one_summary_and_nothing_is_lost(sim) -> None:
    queue = make_queue(sim, chats={"critical": MEDIUM, "high": MEDIUM, "medium": MEDIUM})
    async with running(queue):
        for i in range(50):
            kind, text, sev = msg.trade_executed(side="BUY", size=Decimal(i + 1), price="0.5",
                                                 market=f"mkt-{i:02d}", wallet=WALLET)
            queue.submit(kind, text, sev)
        queue.submit(*msg.circuit_breaker(5))
        assert await queue.drain(30)
    sent = texts(sim, MEDIUM)
    # the critical goes alone and in full; the 50 trades share one message
    assert sent[0] == msg.circuit_breaker(5)[1]
    assert len(sent) == 2
    assert sent[1].startswith("🧾 50 alerts") and "TRADE EXECUTED x50" in sent[1]
    for i in range(50):
        assert sent[1].count(f"mkt-{i:02d}") == 1
    assert queue.stats.delivered == 51 and queue.stats.coalesced == 49
    assert queue.stats.messages_sent == 2


async def test_flood_control_429_is_honoured(sim) -> None:
    telegram = sim.sim.telegram
    telegram.throttle_next(1, retry_after=2)
    queue = make_queue(sim)
    async with running(queue):
        started = time.time()
        queue.submit(*msg.circuit_breaker(3))
        [message] = await wait_messages(sim, 1, CRITICAL)
        assert message["time"] - started >= 2.0  # not retried before retry_after
        # Telegram's own per-chat pacing on: a run of criticals (one message each) all pass
        telegram.set_rate_limit(True, per_chat_interval=1.0)
        for n in range(4):
            queue.submit("circuit_breaker", f"breaker #{n}", "critical")
        assert await queue.drain(30)
    assert texts(sim, CRITICAL)[1:] == [f"breaker #{n}" for n in range(4)]
    assert queue.stats.retries == 1 and queue.stats.failed == 0


async def test_outage_loses_nothing_and_submit_never_waits(sim) -> None:
    telegram = sim.sim.telegram
    # submit is a plain function: nothing in it can await the network
    assert not inspect.iscoroutinefunction(AlertQueue.submit)
    queue = make_queue(sim, request_timeout=1.0)
    async with running(queue):
        telegram.set_outage("502")
        for n in range(5):
            assert queue.submit("operator", f"during 502 #{n}", "high") is None
        while queue.stats.retries < 2:
            await wait_for_retry(queue)
        telegram.set_outage("hang", hang_seconds=30)
        queue.submit("circuit_breaker", "during hang", "critical")
        retries = queue.stats.retries
        while queue.stats.retries < retries + 2:
            await wait_for_retry(queue)
        assert queue.queue_depth == 6 and queue.stats.delivered == 0
        telegram.set_outage(None)
        assert await queue.drain(30)
    assert texts(sim, CRITICAL) == ["during hang"]
    assert sorted(texts(sim, HIGH)[0].splitlines()[1:]) == [
        f"• during 502 #{n}" for n in range(5)]
    assert queue.stats.delivered == 6 and queue.stats.failed == 0


async def wait_for_retry(queue: AlertQueue) -> None:
    await asyncio.sleep(0.1)  # the callers loop on the queue's own retry counter


async def test_undelivered_alerts_survive_a_restart(sim, tmp_path) -> None:
    telegram = sim.sim.telegram
    state = tmp_path / PENDING_FILE
    telegram.set_outage("502")
    first = make_queue(sim, state_file=state)
    async with running(first):
        first.submit("operator", "DEPLOYED v9", "medium")
        first.submit("circuit_breaker", "breaker before restart", "critical")
        while first.stats.retries < 1:
            await wait_for_retry(first)
    saved = json.loads(state.read_text())
    assert sorted(row["text"] for row in saved) == ["DEPLOYED v9", "breaker before restart"]
    telegram.set_outage(None)
    second = make_queue(sim, state_file=state)
    assert second.queue_depth == 2
    async with running(second):
        assert await second.drain(20)
    assert texts(sim, MEDIUM) == ["DEPLOYED v9"]
    assert texts(sim, CRITICAL) == ["breaker before restart"]
    assert json.loads(state.read_text()) == []


async def test_no_secret_is_ever_sent(sim) -> None:
    queue = make_queue(sim, secrets=[KEY])
    async with running(queue):
        queue.submit("error", f"bad config: key {KEY} token {TOKEN} bare {KEY[2:]}", "high")
        queue.submit("error", "another bot 987654:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "high")
        assert await queue.drain(20)
    sent = "\n".join(texts(sim))
    assert KEY[2:] not in sent and TOKEN not in sent and "ABCDEFGHIJKLMNOP" not in sent
    assert sent.count("[redacted]") == 4


async def test_memory_is_bounded_and_criticals_survive(sim) -> None:
    telegram = sim.sim.telegram
    telegram.set_outage("502")
    queue = make_queue(sim, max_pending=10, chats={"critical": HIGH, "high": HIGH,
                                                    "medium": HIGH})
    async with running(queue):
        for n in range(30):
            queue.submit("trade", f"TRADE EXECUTED\nfill {n}", "medium")
            if n % 10 == 0:
                queue.submit("circuit_breaker", f"critical {n}", "critical")
        assert queue.queue_depth <= 10 + 3
        telegram.set_outage(None)
        assert await queue.drain(30)
    sent = texts(sim, HIGH)
    assert [t for t in sent if t.startswith("critical")] == ["critical 0", "critical 10",
                                                              "critical 20"]
    assert "fill 29" in "\n".join(sent)  # the newest are kept whole, the oldest folded
    assert queue.stats.delivered == 33 and queue.stats.failed == 0


async def test_engine_events_become_alerts(sim) -> None:
    queue = make_queue(sim)
    handler = engine_event_handler(queue, label_for=lambda w: "whale",
                                   market_name=lambda intent: "Will it rain?")
    intent = OrderIntent(id="i1", fill_key="k1", wallet=WALLET, token_id="7" * 70,
                         condition_id="0x" + "ab" * 32, side=Side.BUY, size=Decimal(10),
                         limit_price=Decimal("0.56"), created_at=time.time())
    result = OrderResult(order_id="o1", status="matched", filled_size=Decimal(10),
                         avg_price=Decimal("0.55"))

    def skip(reason: str) -> Decided:
        return Decided(Decision(
            fill_key=reason, wallet=WALLET, token_id="1", condition_id=None,
            action=Action.SKIP, reason=reason, side=Side.BUY, decided_at=time.time()))

    async with running(queue):
        handler(Traded(intent, result))
        assert await queue.drain(20)
        handler(OrderFailed(intent, "not enough balance"))
        handler(RiskLimitHit("daily_loss", Decimal("-120")))
        handler(BreakerOpened(5))
        for reason in ("price_band", "price_band", "max_position"):
            handler(skip(reason))
        handler(Traded(intent, None))  # type: ignore[arg-type]  # broken: logged, not raised
        handler.flush_skips()  # type: ignore[attr-defined]
        assert await queue.drain(20)
    [trade, skipped] = texts(sim, MEDIUM)
    assert trade.startswith("✅ TRADE EXECUTED\nBUY 10 @ 0.55 Will it rain?")
    assert "whale (0x1111…1111)" in trade
    assert "SKIPPED 3" in skipped and "price_band 2, max_position 1" in skipped
    assert texts(sim, CRITICAL) == [msg.circuit_breaker(5)[1]]
    high = "\n".join(texts(sim, HIGH))
    assert "not enough balance" in high and "daily_loss" in high
