"""The running bot wired for operations: /health follows the RPC, alerts reach Telegram."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
from harness import BotRun, target

TOKEN = "123456789:AAF-sim_test_token_0123456789abcdefghi"
CHAT = "-100424242"  # alerts
OPS_CHAT, ADMIN = "-100515151", 424242001  # commands: this admin, in this chat only


def _health_url(bot: BotRun) -> str:
    port = re.search(r"health on 127\.0\.0\.1:(\d+)", bot.log_text()).group(1)
    return f"http://127.0.0.1:{port}"


def _wait_status(url: str, wanted: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = httpx.get(f"{url}/health", timeout=5).json()
        if body["status"] == wanted:
            return body
        assert time.monotonic() < deadline, f"/health stayed {body['status']}: {body}"
        time.sleep(0.3)


def _start_with_telegram(bot: BotRun) -> Callable[[], list[str]]:
    """Start the bot alerting to the simulator's Telegram; returns what the chat received."""
    bot.env.update({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": CHAT,
                    "TELEGRAM_API_URL": bot.sim.urls["telegram"],
                    "TELEGRAM_ADMIN_IDS": str(ADMIN), "TELEGRAM_COMMAND_CHAT_IDS": OPS_CHAT})
    bot.start()

    def texts() -> list[str]:
        return [m["text"] for m in httpx.get(f"{bot.admin}/telegram/messages",
                                             params={"chat_id": CHAT}).json()]

    bot.wait_until(lambda: any("BOT STARTED" in t for t in texts()), what="the startup alert")
    return texts


def test_health_follows_the_rpc_and_metrics_count_the_copy(bot: BotRun) -> None:
    bot.start()
    url = _health_url(bot)
    tasks = _wait_status(url, "ok")["components"]["tasks"]["tasks"]
    assert {"detect-chain", "order-0", "sweep", "collateral", "wallets-reload", "upkeep",
            "lifecycle", "ready", "watchdog"} <= set(tasks)
    httpx.post(f"{bot.admin}/faults", json={"service": "rpc", "kind": "status", "status": 503})
    failing = _wait_status(url, "failing")
    assert httpx.get(f"{url}/health").status_code == 503
    assert "rpc" in failing["components"]
    httpx.delete(f"{bot.admin}/faults")
    _wait_status(url, "ok")
    bot.trade(target(0), "rain", "Yes", "BUY", 100, 0.53)
    bot.wait_until(lambda: len(bot.our_matches()) == 1, what="the copy")
    metrics = httpx.get(f"{url}/metrics").text
    assert re.search(r'polymarket_bot_decisions_total\{action="copy",reason="copied"\} 1', metrics)


def test_alerts_reach_the_alert_chat_and_commands_only_an_admin_in_the_ops_chat(
        bot: BotRun) -> None:
    texts = _start_with_telegram(bot)
    bot.trade(target(1), "lakers-celtics", "Celtics", "BUY", 50, 0.60)
    bot.wait_until(lambda: any("TRADE EXECUTED" in t for t in texts()), what="the trade alert")

    def say(chat: str | int, text: str, user: int, username: str) -> None:
        httpx.post(f"{bot.admin}/telegram/updates", json={
            "chat_id": int(chat), "text": text, "from_id": user,
            "from_username": username}).raise_for_status()

    def answers(chat: str | int) -> list[str]:
        return [m["text"] for m in httpx.get(f"{bot.admin}/telegram/messages",
                                             params={"chat_id": chat}).json()]

    say(777, "/pause", ADMIN, "alice_ops")  # a foreign chat
    say(CHAT, "/pause", ADMIN, "alice_ops")  # the alert chat is no command chat
    say(OPS_CHAT, "/pause", 555000111, "mallory")  # not an admin
    say(OPS_CHAT, "/status", ADMIN, "alice_ops")
    bot.wait_until(lambda: answers(OPS_CHAT), what="the /status answer")
    assert "STATUS" in answers(OPS_CHAT)[0] and "paused: no" in answers(OPS_CHAT)[0]
    assert answers(777) == [] and not any("STATUS" in t or "PAUSED" in t for t in texts())
    log = bot.log_text()
    assert f"/pause from user 555000111 (@mallory) in chat {OPS_CHAT} refused" in log
    assert f"/status from user {ADMIN} (@alice_ops) in chat {OPS_CHAT} accepted" in log
    assert "reason=paused" not in log
    assert all(TOKEN not in t for t in texts())


def test_telegram_down_loses_no_alert_and_delays_no_trade(bot: BotRun) -> None:
    texts = _start_with_telegram(bot)
    bot.sim.call(bot.sim.sim.telegram.set_outage, "hang", 5.0)  # requests hang, then 504
    for i, (market, outcome, price) in enumerate([("rain", "Yes", 0.53),
                                                  ("lakers-celtics", "Celtics", 0.60),
                                                  ("fed-cut", "Yes", 0.618)]):
        bot.trade(target(i), market, outcome, "BUY", 50, price)
    # copies go out while Telegram is still down: alerting never holds up trading
    bot.wait_until(lambda: len(bot.our_matches()) == 3, timeout=20, what="copies during outage")
    assert not any("TRADE EXECUTED" in t for t in texts())
    time.sleep(3)  # the outage lasts on; the queue keeps retrying
    bot.sim.call(bot.sim.sim.telegram.set_outage, False)
    # bursts are coalesced into one message: every trade must be in what arrived
    bot.wait_until(lambda: all(market in "\n".join(texts())
                               for market in ("rain", "lakers-celtics", "fed-cut")),
                   timeout=90, what="every trade alert after Telegram came back")
    assert any("TRADE EXECUTED" in t for t in texts())
