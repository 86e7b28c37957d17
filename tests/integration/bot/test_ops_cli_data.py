"""The operator CLI against a real bot process trading in the simulator."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
from harness import BotRun, target

from polymarket_bot.commands import data
from polymarket_bot.state import files, lock

TELEGRAM_TOKEN = "123456789:AAF-sim_test_token_0123456789abcdefghi"
CHAT = 424242


def cli(bot: BotRun, *args: str) -> subprocess.CompletedProcess:
    """`polymarket-bot ARGS --env-file …` as its own process, as an operator would run it."""
    env_file = bot.write_config()
    environ = {**os.environ, "NO_PROXY": "127.0.0.1,localhost"}
    return subprocess.run([sys.executable, "-m", "polymarket_bot", *args, "--env-file",
                           str(env_file)], capture_output=True, text=True, env=environ,
                          timeout=120, check=False)


def reasons(bot: BotRun) -> list[str]:
    db = Path(bot.env["STATE_DIR"]) / "bot.db"
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return [row[0] for row in conn.execute("SELECT reason FROM decisions ORDER BY id")]


def test_backup_online_corrupt_verify_restore_identical(bot: BotRun, tmp_path: Path) -> None:
    state = Path(bot.env["STATE_DIR"])
    bot.start()
    bot.trade(target(0), "rain", "Yes", "BUY", 100, 0.53)
    bot.trade(target(1), "lakers-celtics", "Celtics", "BUY", 50, 0.60)
    bot.wait_until(lambda: len(bot.our_matches()) >= 2, what="two copies")
    backup = cli(bot, "backup", "--to", str(tmp_path / "backups"), "--json")
    assert backup.returncode == 0, backup.stderr
    made = json.loads(backup.stdout)
    backup_file = Path(made["path"])
    assert made["row_counts"]["our_fills"] >= 2 and made["row_counts"]["intents"] == 2
    assert cli(bot, "verify-data").returncode == 0

    refused = cli(bot, "restore", "--from", str(backup_file))
    assert refused.returncode == data.RESTORE_BOT_RUNNING, refused.stderr
    assert "running" in refused.stderr

    bot.stop()
    with closing(sqlite3.connect(state / "bot.db")) as conn, conn:
        conn.execute("DELETE FROM our_fills")
    broken = cli(bot, "verify-data")
    assert broken.returncode == 1
    assert "fills sum to" in broken.stdout

    restored = cli(bot, "restore", "--from", str(backup_file))
    assert restored.returncode == 0, restored.stderr
    assert cli(bot, "verify-data").returncode == 0
    after = files.dump(state / "bot.db")
    assert after == files.dump(backup_file)
    for table, count in made["row_counts"].items():
        assert len(after[table]) == count, table


def test_backup_verify_keep_while_the_bot_trades(bot: BotRun, tmp_path: Path) -> None:
    state = Path(bot.env["STATE_DIR"])
    to = tmp_path / "backups"
    bot.start()
    bot.trade(target(0), "rain", "Yes", "BUY", 100, 0.53)
    bot.wait_until(lambda: len(bot.our_matches()) >= 1, what="a copy")
    # two older backups (real files, renamed to older stamps) and a quarantined one
    old = []
    for stamp in ("20240101T000000Z", "20240601T000000Z"):
        made, _ = data.backup(state / "bot.db", to)
        named = to / f"polymarket-bot-{stamp}.db"
        data.manifest_path(made).rename(data.manifest_path(named))
        old.append(made.rename(named))
    (to / "failed").mkdir()
    quarantined = to / "failed" / "polymarket-bot-20230101T000000Z.db"
    quarantined.write_text("kept for inspection")

    run = cli(bot, "backup", "--to", str(to), "--verify", "--keep", "2", "--json")

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    new = Path(report["path"])
    assert report["verified"] is True
    assert report["rows"] == sum(report["row_counts"].values()) > 0
    assert report["pruned"] == [str(data.manifest_path(old[0])), str(old[0])]
    assert sorted(to.glob("polymarket-bot-*.db")) == [old[1], new]
    assert data.manifest_path(new).is_file() and data.manifest_path(old[1]).is_file()
    assert quarantined.read_text() == "kept for inspection"
    assert not list(to.glob(".verify-*"))
    assert lock.lock_pid(state) == bot.proc.pid  # the trader kept its lock throughout


def test_pause_and_kill_switch_act_on_a_running_bot(bot: BotRun) -> None:
    bot.start()
    assert cli(bot, "pause").returncode == 0
    bot.trade(target(0), "rain", "Yes", "BUY", 100, 0.53)
    bot.wait_until(lambda: "paused" in reasons(bot), what="a paused skip")
    assert cli(bot, "resume").returncode == 0
    bot.trade(target(1), "rain", "No", "BUY", 40, 0.52)
    bot.wait_until(lambda: len(bot.our_matches()) >= 1, what="a copy after resume")
    on = cli(bot, "kill-switch", "on")
    assert on.returncode == 0 and "KILL_SWITCH" in on.stdout
    bot.trade(target(2), "lakers-celtics", "Lakers", "BUY", 30, 0.42)
    bot.wait_until(lambda: "kill_switch" in reasons(bot), what="a kill-switch skip")
    assert len(bot.our_matches()) == 1
    assert cli(bot, "kill-switch", "off").returncode == 0


def test_assess_severity_running_versus_stopped(bot: BotRun) -> None:
    bot.start()
    healthy = cli(bot, "assess-severity")
    verdict = json.loads(healthy.stdout)
    assert healthy.returncode == verdict["severity"] == 4, verdict
    assert verdict["level"] == "LOW"
    assert cli(bot, "kill-switch", "on").returncode == 0
    assert cli(bot, "assess-severity").returncode == 2
    bot.stop()
    down = cli(bot, "assess-severity")
    verdict = json.loads(down.stdout)
    assert down.returncode == verdict["severity"] == 1
    assert verdict["level"] == "CRITICAL"
    assert any("service down" in reason for reason in verdict["reasons"])
    status = cli(bot, "status")
    assert "❌ Service: STOPPED" in status.stdout and status.returncode == 1


def test_monitor_alerts_once_then_resolved(bot: BotRun) -> None:
    bot.env.update({"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_CHAT_ID": str(CHAT),
                    "TELEGRAM_API_URL": bot.sim.urls["telegram"]})

    def messages() -> list[str]:
        return [m["text"] for m in httpx.get(f"{bot.admin}/telegram/messages",
                                             params={"chat_id": CHAT}).json()]

    first = cli(bot, "monitor")
    assert first.returncode == 2, first.stdout + first.stderr
    assert "❌ service" in first.stdout and "overall: CRITICAL" in first.stdout
    assert len([t for t in messages() if "service" in t and "CRITICAL" in t]) == 1
    again = cli(bot, "monitor")
    assert again.returncode == 2
    assert len([t for t in messages() if "service" in t]) == 1, messages()
    bot.start()
    healed = cli(bot, "monitor")
    assert "✅ service" in healed.stdout, healed.stdout
    resolved = [t for t in messages() if t.startswith("✅ RESOLVED: service")]
    assert len(resolved) == 1, messages()
    assert TELEGRAM_TOKEN.split(":")[1] not in "".join(messages())
