"""AlertQueue's offline parts: routing, scrubbing, bounded memory, summaries, settings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from polymarket_bot.config.settings import collect_settings
from polymarket_bot.service import alert_messages as msg
from polymarket_bot.service.alert_events import schedule_daily_pnl
from polymarket_bot.service.alerts import MAX_TEXT, AlertQueue, Scrubber, _summary, _weight
from polymarket_bot.state.store import DB_FILE, Store

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"


def _queue(**kwargs) -> AlertQueue:
    chats = kwargs.pop("chats", {"critical": "-1", "high": "-2", "medium": "-3"})
    return AlertQueue(TOKEN, chats, api_url="http://127.0.0.1:9", **kwargs)


def test_low_is_logged_only_and_unknown_severity_counts_as_high() -> None:
    queue = _queue()
    queue.submit("note", "x", "low")
    queue.submit("weird", "y", "urgent!!")
    assert queue.stats.logged_only == 1 and queue.queue_depth == 1
    assert queue._pending["-2"][0].severity == "high"


def test_without_token_everything_is_logged_only() -> None:
    queue = AlertQueue(None, {"critical": "-1"})
    queue.submit("circuit_breaker", "x", "critical")
    assert queue.queue_depth == 0 and queue.stats.logged_only == 1 and not queue.enabled


def test_submit_never_raises() -> None:
    queue = _queue()
    queue.submit("odd", object(), "high")  # type: ignore[arg-type]
    queue.scrub = None  # type: ignore[assignment]  # whatever breaks inside stays inside
    queue.submit("odd", "text", "high")
    assert queue.queue_depth == 1


def test_scrubber_removes_token_and_key_forms() -> None:
    key = "0x" + "ab" * 32
    scrub = Scrubber([TOKEN, key, None, ""])
    out = scrub(f"{TOKEN} {key} {key[2:]} 55555:{'Z' * 35} ok")
    assert out == "[redacted] [redacted] [redacted] [redacted] ok"


def test_memory_bound_folds_oldest_lowest_first_and_keeps_criticals() -> None:
    queue = _queue(max_pending=20, chats={"critical": "-1", "high": "-1", "medium": "-1"})
    for n in range(5):
        queue.submit("circuit_breaker", f"crit {n}", "critical")
    for n in range(40):
        queue.submit("trade", f"TRADE EXECUTED\nfill {n}", "medium")
        queue.submit("order_error", f"ORDER FAILED\nerr {n}", "high")
    assert queue.queue_depth <= 20
    pending = queue._pending["-1"]
    assert [a.text for a in pending if a.severity == "critical"] == [f"crit {n}" for n in
                                                                        range(5)]
    # the lower (medium) trades are folded before any high alert is
    [trades] = [a.text for a in pending if a.severity == "medium"]
    assert trades.endswith("folded to bound memory: TRADE EXECUTED x40")
    assert "ORDER FAILED\nerr 39" in [a.text for a in pending]
    # every submitted alert is still accounted for by some pending entry
    assert _weight(pending) == 85


def test_summary_splits_when_too_long_and_loses_nothing() -> None:
    queue = _queue()
    for n in range(200):
        queue.submit("trade", f"TRADE EXECUTED\nBUY {n} @ 0.5 {'m' * 60}", "medium")
    items = list(queue._pending["-3"])
    seen = 0
    while items:
        batch, text = _summary(items)
        assert len(text) <= MAX_TEXT and batch
        seen += len(batch)
        items = items[len(batch):]
    assert seen == 200


def test_message_builders_have_the_facts() -> None:
    _, text, sev = msg.trade_executed(side="SELL", size=Decimal("12.50"), price=Decimal("0.40"),
                                      market="Will X?", wallet="0x" + "1" * 40, label=None)
    assert sev == "medium" and "SELL 12.5 @ 0.4 Will X?" in text and "0x1111…1111" in text
    assert msg.circuit_breaker(5)[2] == "critical"
    assert msg.risk_limit("daily_loss", Decimal(-1))[2] == "high"
    assert "mode live" in msg.startup("live", "polygon", 1)[1]
    assert "price_band 3, max_position 1" in msg.skipped_summary(
        {"max_position": 1, "price_band": 3}, 600)[1]
    assert msg.operator("DEPLOYED", "low")[2] == "low"


def test_chat_settings_default_to_telegram_chat_id(tmp_path: Path) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "-100", "TELEGRAM_CHAT_HIGH": "-200",
           "STATE_DIR": str(tmp_path)}
    _settings, values, _problems = collect_settings(None, env)
    assert values["TELEGRAM_CHAT_HIGH"] == "-200"
    assert values.get("TELEGRAM_CHAT_CRITICAL") is None


def test_daily_pnl_summary_once_after_midnight(tmp_path: Path) -> None:
    now = [1_767_225_000.0]  # 2025-12-31 23:50 UTC
    queue = _queue()
    with Store(tmp_path / DB_FILE) as store:
        tick = schedule_daily_pnl(queue, store, clock=lambda: now[0])
        tick()
        assert queue.queue_depth == 0
        now[0] += 1200  # 00:10 the next day
        tick()
        tick()
    [alert] = queue._pending["-3"]
    assert alert.text.startswith("📊 DAILY P&L 2025-12-31\ntotal 0.00 pUSD · realized 0.00")
