"""Telegram commands against the simulator's fake, through python-telegram-bot.

Obeyed only from an admin (by user id) in a command chat; every command is logged with its
sender; a Telegram /resume cannot lift an operator's or an incident's pause.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from alerts_helpers import CRITICAL, HIGH, TOKEN, texts, wait_messages
from lifecycle_helpers import book_position

from polymarket_bot.policy.limits import Limits
from polymarket_bot.service.telegram_control import REDEEM_FLAG, TelegramControl
from polymarket_bot.state.store import DB_FILE, Store

FOREIGN = "-1009999999999"
CONDITION = "0x" + "5a" * 32
OPS = "-1001000000009"  # the command chat; CRITICAL and HIGH only receive alerts
ADMIN, ADMIN_NAME = 424242001, "alice_ops"
STRANGER = 555000111
TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0


@pytest.fixture(autouse=True)
def _log_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="polymarket_bot")


@contextlib.asynccontextmanager
async def control(sim, tmp_path: Path) -> AsyncIterator[tuple[TelegramControl, Store]]:
    store = Store(tmp_path / DB_FILE)
    limits = Limits(max_position_usdc=Decimal(50), max_daily_loss_usdc=Decimal(100),
                    max_open_positions=20)
    kill_switch = tmp_path / "KILL_SWITCH"
    ctl = TelegramControl(
        TOKEN, [OPS], admins=[ADMIN], store=store, limits=limits, api_url=sim.urls["telegram"],
        poll_timeout=5, kill_switch=kill_switch.exists,
        status=lambda: {"mode": "paper", "running since": "today", "targets": 2,
                        "last detection": "3 s ago", "orders ok/failed": "4/1"})
    task = asyncio.create_task(ctl.run())
    try:
        yield ctl, store
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()


def send(sim, chat: str, text: str, user: int = ADMIN, username: str | None = ADMIN_NAME,
         **extra: bool) -> None:
    sim.sim.telegram.inject_update(int(chat), text, user, username=username, **extra)


async def ask(sim, chat: str, text: str, user: int = ADMIN) -> str:
    before = len(texts(sim, chat))
    send(sim, chat, text, user)
    replies = await wait_messages(sim, before + 1, chat, timeout=20)
    assert len(replies) == before + 1, f"no answer to {text}"
    return replies[-1]["text"]


def operator(tmp_path: Path, *args: str) -> int:
    """The operator CLI (`polymarket-bot ARGS --env-file`) on the same state directory."""
    env_file = tmp_path / "bot.env"
    env_file.write_text(f"PRIVATE_KEY={TEST_KEY}\nPOLYGON_RPC_URL=http://127.0.0.1:9\n"
                        f"MAX_POSITION_SIZE=50\nMAX_DAILY_LOSS=100\nSTATE_DIR={tmp_path}\n"
                        f"KILL_SWITCH_FILE={tmp_path / 'KILL_SWITCH'}\n")
    environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run([sys.executable, "-m", "polymarket_bot", *args, "--env-file",
                           str(env_file)], env=environ, timeout=120, check=False).returncode


async def test_an_admin_in_the_command_chat_controls_the_bot(sim, tmp_path, caplog) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        assert "PAUSED" in await ask(sim, OPS, "/pause")
        assert store.get_flag("paused") == "1"
        status = await ask(sim, OPS, "/status")
        assert "mode: paper" in status and "orders ok/failed: 4/1" in status
        assert "RESUMED" in await ask(sim, OPS, "/resume")
        assert store.get_flag("paused") is None
        limits = await ask(sim, OPS, "/limits")
        assert "max_position_usdc: 50" in limits and "max_daily_loss_usdc: 100" in limits
        assert "no open positions" in await ask(sim, OPS, "/positions")
        pnl = await ask(sim, OPS, "/pnl@sim_bot")
        assert "total 0.00 pUSD" in pnl and "realized 0.00" in pnl
        assert "/status" in await ask(sim, OPS, "/whatever")
    assert ctl.handled == 7 and ctl.ignored == 0
    assert (f"telegram command /pause from user {ADMIN} (@{ADMIN_NAME}) in chat {OPS} "
            "accepted") in caplog.text
    assert f"paused from telegram by user {ADMIN} (@{ADMIN_NAME})" in caplog.text


def won_market(store: Store) -> None:
    """A position of 10 shares whose market resolved in its favour: 10 pUSD to redeem."""
    book_position(store, "11", CONDITION, Decimal(10), Decimal("0.4"))
    store.resolve(CONDITION, {"11": Decimal(1), "12": Decimal(0)}, source="gamma")


async def test_redeem_is_requested_by_an_admin_only(sim, tmp_path) -> None:
    async with control(sim, tmp_path) as (_, store):
        assert "nothing to redeem" in await ask(sim, OPS, "/redeem")
        won_market(store)
        send(sim, OPS, "/redeem", STRANGER, "mallory")
        sim.sim.telegram.inject_update(int(FOREIGN), "/redeem", ADMIN, username=ADMIN_NAME)
        await ask(sim, OPS, "/status")
        assert store.get_flag(REDEEM_FLAG) is None  # neither the stranger nor the foreign chat
        reply = await ask(sim, OPS, "/redeem")
        assert "REDEEM requested: 1 market(s), 10.00 pUSD" in reply
        assert store.get_flag(REDEEM_FLAG) == "1"
    assert texts(sim, FOREIGN) == []


async def test_a_group_member_who_is_not_an_admin_is_refused(sim, tmp_path, caplog) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        send(sim, OPS, "/pause", STRANGER, "mallory")
        send(sim, OPS, "/status", STRANGER, "mallory")
        # updates are handled in order: once the admin is answered, the stranger's were seen
        await ask(sim, OPS, "/status")
        assert store.get_flag("paused") is None
    assert len(texts(sim, OPS)) == 1  # the admin's answer only: the stranger got nothing
    assert ctl.ignored == 2 and ctl.handled == 1
    assert (f"telegram command /pause from user {STRANGER} (@mallory) in chat {OPS} refused: "
            "sender is not in TELEGRAM_ADMIN_IDS") in caplog.text


async def test_alert_chats_and_foreign_chats_are_not_command_chats(sim, tmp_path,
                                                                   caplog) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        for chat in (HIGH, CRITICAL, FOREIGN):
            send(sim, chat, "/pause")  # the admin, but in the wrong chat
        await ask(sim, OPS, "/status")
        assert store.get_flag("paused") is None
    assert texts(sim, HIGH) == texts(sim, CRITICAL) == texts(sim, FOREIGN) == []
    assert ctl.ignored == 3
    assert (f"from user {ADMIN} (@{ADMIN_NAME}) in chat {HIGH} refused: chat is not in "
            "TELEGRAM_COMMAND_CHAT_IDS") in caplog.text


async def test_anonymous_admins_bots_and_odd_usernames_are_refused(sim, tmp_path,
                                                                   caplog) -> None:
    async with control(sim, tmp_path) as (ctl, store):
        send(sim, OPS, "/pause", anonymous=True)  # posts as the group: no person to check
        send(sim, OPS, "/pause", is_bot=True)  # a bot that took the admin's id
        send(sim, OPS, "/pause\x1b[2J", STRANGER, "evil\nINFO forged line")
        await ask(sim, OPS, "/status")
        assert store.get_flag("paused") is None
    assert ctl.ignored == 3
    assert "refused: no identifiable sender" in caplog.text
    assert "evil\nINFO" not in caplog.text and "\x1b" not in caplog.text
    assert "(@'evil\\nINFO forged line')" in caplog.text


async def test_telegram_resume_cannot_lift_an_operator_pause(sim, tmp_path, caplog) -> None:
    async with control(sim, tmp_path) as (_ctl, store):
        assert await asyncio.to_thread(operator, tmp_path, "pause", "--by", "root on host") == 0
        refused = await ask(sim, OPS, "/resume")
        assert "NOT RESUMED: paused by an operator on the host (root on host)" in refused
        assert "cannot lift it" in refused
        assert store.get_flag("paused") == "1"
        # a Telegram /pause on top leaves the operator's pause in force
        assert "already PAUSED by an operator" in await ask(sim, OPS, "/pause")
        assert "NOT RESUMED" in await ask(sim, OPS, "/resume")
        assert "paused: yes, by an operator on the host" in await ask(sim, OPS, "/status")
        assert await asyncio.to_thread(operator, tmp_path, "resume") == 0
        assert store.get_flag("paused") is None
    assert "telegram /resume by user 424242001 (@alice_ops) refused" in caplog.text


async def test_telegram_resume_cannot_lift_incident_containment(sim, tmp_path) -> None:
    async with control(sim, tmp_path) as (_ctl, store):
        assert await asyncio.to_thread(operator, tmp_path, "pause", "--authority", "incident",
                                       "--by", "incident 20260101 severity 2") == 0
        refused = await ask(sim, OPS, "/resume")
        assert "paused by incident containment (incident 20260101 severity 2)" in refused
        assert store.get_flag("paused") == "1"


async def test_resume_says_when_the_kill_switch_still_stops_everything(sim, tmp_path) -> None:
    async with control(sim, tmp_path) as (_ctl, store):
        assert await asyncio.to_thread(operator, tmp_path, "kill-switch", "on") == 0
        assert "PAUSED" in await ask(sim, OPS, "/pause")
        answer = await ask(sim, OPS, "/resume")
        assert "KILL SWITCH is ON" in answer and "RESUMED" not in answer
        assert store.get_flag("paused") is None  # the Telegram pause itself was lifted
        assert (tmp_path / "KILL_SWITCH").exists()


async def test_commands_keep_working_after_telegram_was_down(sim, tmp_path) -> None:
    telegram = sim.sim.telegram
    async with control(sim, tmp_path) as (_ctl, store):
        telegram.set_outage("502")
        await asyncio.sleep(1.5)  # a few failed polls
        telegram.set_outage(None)
        started = time.monotonic()
        assert "PAUSED" in await ask(sim, OPS, "/pause")
        assert store.get_flag("paused") == "1"
        assert time.monotonic() - started < 60  # answered by the same poller, not a stuck one
