"""connectivity, diagnose and health against the simulator and a real bot process."""

from __future__ import annotations

import json

from harness import BOT_ADDRESS, BotRun, target
from test_ops_cli_data import cli


def test_connectivity_reports_chain_wallet_and_clob(bot: BotRun) -> None:
    result = cli(bot, "connectivity", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["rpc_connected"] is True and report["chain_id"] == 137
    assert report["block_number"] >= 0
    assert report["wallet"] == BOT_ADDRESS
    assert report["pusd_balance"] == 100000
    assert set(report["allowances"]) == {"ctf_exchange", "neg_risk_exchange", "exchange_v3"}
    assert report["clob_ok"] is True
    assert bot.env["PRIVATE_KEY"][2:10] not in result.stdout


def test_connectivity_fails_when_the_rpc_is_down(bot: BotRun) -> None:
    bot.env["POLYGON_RPC_URL"] = "http://127.0.0.1:9/"
    result = cli(bot, "connectivity")
    assert result.returncode == 1
    assert "connectivity FAILED" in result.stdout


def test_diagnose_counts_copies_and_skips(bot: BotRun) -> None:
    bot.start()
    bot.trade(target(0), "rain", "Yes", "BUY", 100, 0.53)
    bot.wait_until(lambda: len(bot.our_matches()) >= 1, what="a copy")
    assert cli(bot, "pause").returncode == 0
    bot.trade(target(1), "rain", "No", "BUY", 40, 0.52)
    bot.wait_until(lambda: "reason=paused" in bot.log_text(), what="a paused skip")
    result = cli(bot, "diagnose", "--hours", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["skips_by_reason"]["paused"] == 1
    assert report["decisions"] == 2
    assert report["latency_seconds"]["count"] == 1
    assert "available" in report["journal"]


def test_health_unreachable_is_exit_2(bot: BotRun) -> None:
    bot.env["HEALTH_PORT"] = "9"  # nothing listens there
    result = cli(bot, "health")
    assert result.returncode == 2
    assert "unreachable" in result.stdout
