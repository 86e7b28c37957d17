"""Operator commands run without the secrets: the host tool hands them bot.env minus the key,
the Telegram token and the RPC URL. Commands that sign or reach the chain still need them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from config_helpers import KEY_HEX, env, write_env

from polymarket_bot.config.problems import ConfigError
from polymarket_bot.config.settings import OperatorSettings, Settings, load_settings


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "polymarket_bot", *args], capture_output=True,
                          text=True, timeout=120, check=False, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def keyless(tmp_path: Path) -> Path:
    """bot.env as the host tool hands it over: alerts and commands configured, the token,
    the key and the RPC URL withheld."""
    return write_env(tmp_path / "operator.env",
                     env(PRIVATE_KEY=None, POLYGON_RPC_URL=None, STATE_DIR=str(tmp_path / "st"),
                         TELEGRAM_CHAT_ID="-1000000000001", TELEGRAM_ADMIN_IDS="424242001",
                         TELEGRAM_COMMAND_CHAT_IDS="-1000000000002"))


@pytest.mark.parametrize("command", [
    ["pause"], ["resume"], ["kill-switch", "on"], ["kill-switch", "off"], ["status", "--json"],
    ["verify-data"], ["assess-severity"], ["diagnose", "--json"]])
def test_operator_commands_run_without_key_or_rpc(command: list[str], keyless: Path) -> None:
    if command[0] in ("verify-data", "assess-severity", "diagnose", "status"):
        assert run("pause", "--env-file", str(keyless)).returncode == 0  # creates the DB
    result = run(*command, "--env-file", str(keyless))
    assert "configuration invalid" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if command[0] in ("assess-severity", "status"):  # their exit code is a verdict on the bot
        assert json.loads(result.stdout.splitlines()[-1]), result.stderr
    else:
        assert result.returncode == 0, result.stderr


def test_backup_runs_without_key_or_rpc(keyless: Path, tmp_path: Path) -> None:
    assert run("pause", "--env-file", str(keyless)).returncode == 0
    result = run("backup", "--to", str(tmp_path / "backups"), "--verify", "--env-file",
                 str(keyless))
    assert result.returncode == 0, result.stderr


def test_connectivity_still_needs_the_rpc_url_and_the_key(keyless: Path) -> None:
    result = run("connectivity", "--env-file", str(keyless))
    assert result.returncode == 2
    assert "PRIVATE_KEY" in result.stderr and "POLYGON_RPC_URL" in result.stderr


def test_a_key_that_is_given_is_still_checked_and_never_shown(tmp_path: Path) -> None:
    bad = write_env(tmp_path / "bad.env", env(PRIVATE_KEY="0x" + KEY_HEX[:-2]))
    with pytest.raises(ConfigError) as raised:
        load_settings(bad, environ={}, model=OperatorSettings)
    assert "PRIVATE_KEY" in str(raised.value) and KEY_HEX[:-2] not in str(raised.value)


def test_rules_between_settings_still_hold_for_what_is_given(tmp_path: Path) -> None:
    crossed = write_env(tmp_path / "crossed.env", env(PRIVATE_KEY=None, MIN_PRICE="0.9",
                                                      MAX_PRICE="0.5"))
    with pytest.raises(ConfigError, match="MIN_PRICE"):
        load_settings(crossed, environ={}, model=OperatorSettings)


def test_without_the_key_there_is_no_wallet_and_run_refuses(keyless: Path) -> None:
    settings = load_settings(keyless, environ={}, model=OperatorSettings)
    assert settings.PRIVATE_KEY is None and settings.wallet_address == ""
    with pytest.raises(ConfigError, match="PRIVATE_KEY"):
        load_settings(keyless, environ={}, model=Settings)
