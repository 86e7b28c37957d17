"""`polymarket-bot alert` / `alert-test` as a playbook runs them: a real process, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alerts_helpers import CRITICAL, HIGH, MEDIUM, TOKEN, texts


def _env_file(tmp_path: Path, sim, **extra: str) -> Path:
    values = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": MEDIUM,
              "TELEGRAM_API_URL": sim.urls["telegram"], **extra}
    path = tmp_path / "bot.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items() if v is not None))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    # the subprocess timeout is the test's guard: the command itself must never hang
    return subprocess.run([sys.executable, "-m", "polymarket_bot", *args], env=env,
                          capture_output=True, text=True, timeout=90, check=False)


def test_alert_is_delivered_to_the_severity_chat(sim, tmp_path) -> None:
    env = _env_file(tmp_path, sim, TELEGRAM_CHAT_CRITICAL=CRITICAL)
    done = cli("alert", "DEPLOYED v1.2.3", "--env-file", str(env))
    assert done.returncode == 0, done.stderr
    assert texts(sim, MEDIUM) == ["📣 DEPLOYED v1.2.3"]
    done = cli("alert", "ROLLBACK COMPLETED", "--severity", "critical", "--env-file", str(env))
    assert done.returncode == 0, done.stderr
    assert texts(sim, CRITICAL) == ["🚨 ROLLBACK COMPLETED"]
    assert TOKEN not in done.stdout + done.stderr


def test_alert_exits_1_when_telegram_is_down_and_never_hangs(sim, tmp_path) -> None:
    env = str(_env_file(tmp_path, sim))
    sim.sim.telegram.set_outage("502")
    done = cli("alert", "DEPLOYED", "--severity", "high", "--env-file", env)
    assert done.returncode == 1 and "not sent" in done.stderr
    sim.sim.telegram.set_outage("hang", hang_seconds=60)
    done = cli("alert", "DEPLOYED", "--env-file", env, "--timeout", "2")
    assert done.returncode == 1 and "not sent" in done.stderr
    sim.sim.telegram.set_outage(None)
    assert texts(sim) == []
    assert TOKEN not in done.stdout + done.stderr


def test_alert_without_telegram_settings_or_at_low_severity(sim, tmp_path) -> None:
    env = _env_file(tmp_path, sim, TELEGRAM_BOT_TOKEN=None, TELEGRAM_CHAT_ID=None)
    done = cli("alert", "DEPLOYED", "--env-file", str(env))
    assert done.returncode == 1 and "TELEGRAM_BOT_TOKEN" in done.stderr
    env = _env_file(tmp_path, sim)
    done = cli("alert", "just a note", "--severity", "low", "--env-file", str(env))
    assert done.returncode == 0 and "logged only" in done.stdout
    assert texts(sim) == []


def test_alert_test_reports_each_chat(sim, tmp_path) -> None:
    env = _env_file(tmp_path, sim, TELEGRAM_CHAT_CRITICAL=CRITICAL, TELEGRAM_CHAT_HIGH=HIGH)
    done = cli("alert-test", "--env-file", str(env))
    assert done.returncode == 0, done.stderr
    for chat in (CRITICAL, HIGH, MEDIUM):
        assert len(texts(sim, chat)) == 1 and "TEST ALERT" in texts(sim, chat)[0]
        assert f"chat {chat}: ok" in done.stdout
    # a chat the bot is not in: that line fails, the others still pass, exit 1
    telegram = sim.sim.telegram
    telegram.chats_open = False
    done = cli("alert-test", "--env-file",
               str(_env_file(tmp_path, sim, TELEGRAM_CHAT_HIGH="-1001234")))
    assert done.returncode == 1
    assert f"chat {MEDIUM}: ok" in done.stdout and "chat -1001234: FAILED" in done.stdout
