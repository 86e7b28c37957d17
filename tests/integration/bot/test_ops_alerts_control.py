"""Telegram commands against the simulator's fake: only the configured chat is obeyed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

from alerts_helpers import CRITICAL, HIGH, TOKEN, texts, wait_messages
from lifecycle_helpers import book_position

from polymarket_bot.ops.telegram_control import REDEEM_FLAG, TelegramControl
from polymarket_bot.policy.limits import Limits
from polymarket_bot.state.store import DB_FILE, Store

FOREIGN = "-1009999999999"
CONDITION = "0x" + "5a" * 32


@contextlib.asynccontextmanager
async def control(sim, tmp_path: Path) -> AsyncIterator[tuple[TelegramControl, Store]]:
    store = Store(tmp_path / DB_FILE)
    limits = Limits(max_position_usdc=Decimal(50), max_daily_loss_usdc=Decimal(100),
                    max_open_positions=20)
    ctl = TelegramControl(
        TOKEN, [CRITICAL, HIGH], store=store, limits=limits, api_url=sim.urls["telegram"],
        poll_timeout=5, status=lambda: {"mode": "paper", "running since": "today",
                                        "targets": 2, "last detection": "3 s ago",
                                        "orders ok/failed": "4/1"})
    task = asyncio.create_task(ctl.run())
    try:
        yield ctl, store
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()


async def ask(sim, chat: str, text: str) -> str:
    before = len(texts(sim, chat))
    sim.sim.telegram.inject_update(int(chat), text)
    replies = await wait_messages(sim, before + 1, chat, timeout=20)
    assert len(replies) == before + 1, f"no answer to {text}"
    return replies[-1]["text"]


async def test_pause_resume_status_from_the_configured_chat(sim, tmp_path) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        assert "PAUSED" in await ask(sim, HIGH, "/pause")
        assert store.get_flag("paused") == "1"
        status = await ask(sim, CRITICAL, "/status")  # every configured chat may command
        assert "mode: paper" in status and "orders ok/failed: 4/1" in status
        assert "RESUMED" in await ask(sim, HIGH, "/resume")
        assert store.get_flag("paused") is None
        limits = await ask(sim, HIGH, "/limits")
        assert "max_position_usdc: 50" in limits and "max_daily_loss_usdc: 100" in limits
        assert "no open positions" in await ask(sim, HIGH, "/positions")
        pnl = await ask(sim, HIGH, "/pnl@sim_bot")
        assert "total 0 pUSD" in pnl and "realized 0" in pnl
        assert "/status" in await ask(sim, HIGH, "/whatever")
    assert ctl.handled == 7 and ctl.ignored == 0


def won_market(store: Store) -> None:
    """A position of 10 shares whose market resolved in its favour: 10 pUSD to redeem."""
    book_position(store, "11", CONDITION, Decimal(10), Decimal("0.4"))
    store.resolve(CONDITION, {"11": Decimal(1), "12": Decimal(0)}, source="gamma")


async def test_redeem_is_requested_by_a_configured_chat_only(sim, tmp_path) -> None:
    async with control(sim, tmp_path) as (_, store):
        assert "nothing to redeem" in await ask(sim, HIGH, "/redeem")
        won_market(store)
        sim.sim.telegram.inject_update(int(FOREIGN), "/redeem")
        await ask(sim, HIGH, "/status")
        assert store.get_flag(REDEEM_FLAG) is None  # the stranger changed nothing
        reply = await ask(sim, HIGH, "/redeem")
        assert "REDEEM requested: 1 market(s), 10 pUSD" in reply
        assert store.get_flag(REDEEM_FLAG) == "1"
    assert texts(sim, FOREIGN) == []


async def test_foreign_chat_is_ignored_and_gets_no_reply(sim, tmp_path, caplog) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        sim.sim.telegram.inject_update(int(FOREIGN), "/pause")
        sim.sim.telegram.inject_update(int(FOREIGN), "/status")
        # the configured chat's command comes after the foreign ones: once it is answered,
        # the foreign ones were seen (updates are handled in order)
        await ask(sim, HIGH, "/status")
        assert store.get_flag("paused") is None
    assert texts(sim, FOREIGN) == []
    assert ctl.ignored == 2 and ctl.handled == 1
    assert f"from chat {FOREIGN}" in caplog.text


async def test_commands_keep_working_after_telegram_was_down(sim, tmp_path) -> None:
    telegram = sim.sim.telegram
    async with control(sim, tmp_path) as (_ctl, store):
        telegram.set_outage("502")
        await asyncio.sleep(1.5)  # a few failed polls
        telegram.set_outage(None)
        started = time.monotonic()
        assert "PAUSED" in await ask(sim, HIGH, "/pause")
        assert store.get_flag("paused") == "1"
        assert time.monotonic() - started < 60  # answered by the same poller, not a stuck one
