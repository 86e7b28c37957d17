"""Every bad configuration input: exit 2, the field and its fix, no traceback, bounded work.

Runs the real `polymarket-bot check-config` in this process: any exception fails the test, and
files that are devices or endless streams are read under a memory cap.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from config_helpers import (
    ALICE,
    RUNBOOK_WALLETS,
    TOKEN,
    env,
    memory_cap,
    run_cli,
    write_env,
    write_json,
)

from polymarket_bot.config import Settings


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def check(tmp_path: Path, env_values: dict[str, str] | None = None,
          wallets: object = RUNBOOK_WALLETS) -> tuple[int, str]:
    env_file = write_env(tmp_path / "bot.env", env_values if env_values is not None else env())
    wallets_file = tmp_path / "wallets.json"
    if isinstance(wallets, str):
        wallets_file.write_text(wallets)
    else:
        write_json(wallets_file, wallets)
    return run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets_file))


def check_files(env_file: Path, wallets: Path) -> tuple[int, str]:
    with memory_cap():
        return run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets))


def special_file(kind: str, path: Path) -> Path:
    if kind == "endless":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        path.write_bytes(b"# padding\n" * 200_000)
    else:
        path.write_bytes(b"MAX_DAILY_LOSS=\xff\xfe100\n")
    return path


KINDS = {"endless": "is a character device, not a regular file",
         "fifo": "is a FIFO (named pipe), not a regular file",
         "directory": "is a directory, not a regular file",
         "huge": "bytes; at most", "binary": "is not UTF-8 text"}


@pytest.mark.parametrize("kind", KINDS)
def test_an_env_file_that_is_no_regular_text_file_is_refused(tmp_path: Path, kind: str) -> None:
    env_file = special_file(kind, tmp_path / "bot.env")
    wallets = write_json(tmp_path / "wallets.json", RUNBOOK_WALLETS)
    code, output = check_files(env_file, wallets)
    assert code == 2, output
    assert "--env-file: " in output and KINDS[kind] in output and " — fix: " in output


@pytest.mark.parametrize("kind", KINDS)
def test_a_wallets_file_that_is_no_regular_text_file_is_refused(tmp_path: Path,
                                                                kind: str) -> None:
    env_file = write_env(tmp_path / "bot.env", env())
    wallets = special_file(kind, tmp_path / "wallets.json")
    code, output = check_files(env_file, wallets)
    assert code == 2, output
    assert "WALLETS_FILE: " in output and KINDS[kind] in output and " — fix: " in output


@pytest.mark.parametrize(("changes", "expected"), [
    ({"MAX_DAILY_LOSS": "1e999999"},
     "MAX_DAILY_LOSS: must be from 0.000001 to 10000000 USDC (got 1E+999999)"),
    ({"MAX_POSITION_SIZE": "Infinity"}, "MAX_POSITION_SIZE: must be"),
    ({"MIN_SOURCE_USDC": "1e999999"}, "MIN_SOURCE_USDC: must be from 0 to 10000000 USDC"),
    ({"MAX_DAILY_LOSS": "NaN"}, "MAX_DAILY_LOSS: must be a finite number"),
    ({"MAX_DAILY_LOSS": "\u0661\u0660\u0660"},
     "MAX_DAILY_LOSS: must be a number written with the digits 0-9"),
    ({"MAX_DAILY_LOSS": "1_000"}, "MAX_DAILY_LOSS: must be a number written with the digits"),
    ({"MAX_DAILY_LOSS": "9" * 5000}, "MAX_DAILY_LOSS: has 5000 characters; a number here has"),
    ({"POLL_INTERVAL_SECONDS": "1e9"}, "POLL_INTERVAL_SECONDS: must be from 0.1 to 3600 seconds"),
    ({"POLL_INTERVAL_SECONDS": "0.000001"}, "POLL_INTERVAL_SECONDS: must be from 0.1 to 3600"),
    ({"POLL_INTERVAL_SECONDS": "nan"}, "POLL_INTERVAL_SECONDS: must be from 0.1 to 3600"),
    ({"CHAIN_POLL_INTERVAL_SECONDS": "86400"}, "CHAIN_POLL_INTERVAL_SECONDS: must be from 0.05"),
    ({"GTC_TTL_SECONDS": "1e300"}, "GTC_TTL_SECONDS: must be from 1 to 86400 seconds"),
    ({"CHAIN_ID": "9" * 30}, "CHAIN_ID: must be from 1 to 4503599627370476"),
    ({"CHAIN_ID": "\u0661\u0663\u0667"}, "CHAIN_ID: must be a number written with the digits 0-9"),
    ({"CHAIN_CONFIRMATIONS": "1000000"}, "CHAIN_CONFIRMATIONS: must be from 0 to 256 blocks"),
    ({"MAX_OPEN_POSITIONS": "9" * 30}, "MAX_OPEN_POSITIONS: must be from 1 to 100000"),
    ({"CIRCUIT_BREAKER_ERRORS": "1e3"}, "CIRCUIT_BREAKER_ERRORS: must be a whole number"),
    ({"HEALTH_PORT": "\u0668\u0660"}, "HEALTH_PORT: must be a number written with the digits 0-9"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "-\u0661\u0660\u0660\u0661"},
     "TELEGRAM_CHAT_ID: is not a Telegram chat id"),
    ({"TELEGRAM_BOT_TOKEN": "\u0661\u0662\u0663:AAFakeTokenForTestsOnly_abcdefghijkl",
      "TELEGRAM_CHAT_ID": "-1001"}, "TELEGRAM_BOT_TOKEN: is not a Telegram bot token"),
    ({"CLOB_HOST": "https://clob.example:99999"}, "CLOB_HOST: must be a http/https URL"),
    ({"MARKET_DENYLIST": "will-it-rain,bad\x1bslug"}, "MARKET_DENYLIST: contains"),
])
def test_meaningless_settings_are_refused_with_their_range(
        tmp_path: Path, changes: dict[str, str], expected: str) -> None:
    code, output = check(tmp_path, env(**changes))
    assert code == 2, output
    assert expected in output and " — fix: " in output
    assert "\x1b" not in output


def test_a_path_with_a_control_character_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIR", "/var/lib/polymarket-bot\x01")
    code, output = check(tmp_path)
    assert code == 2
    assert "STATE_DIR: must be a path of 1 to 4096 characters without control characters" in output


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("text", "expected"), [
    (json.dumps({**RUNBOOK_WALLETS, "max_trade_frequency": 1}).replace(
        '"max_trade_frequency": 1', '"max_trade_frequency": 1' + "0" * 5000),
     "wallets.json: contains a number of 5001 digits, which is not a usable number"),
    (json.dumps({**RUNBOOK_WALLETS, "target_wallets": "DEEP"}).replace('"DEEP"', DEEP),
     "wallets.json: nests lists and objects more than 16 deep"),
    (DEEP, "wallets.json: nests lists and objects more than 16 deep"),
    (json.dumps({**RUNBOOK_WALLETS, "min_trade_interval_minutes": 1}).replace(
        '"min_trade_interval_minutes": 1', '"min_trade_interval_minutes": 1e999999'),
     "contains 1e999999, which is not a usable number"),
    ("//" * 300_000, "line 1 column 1: has a comment"),
])
def test_wallets_json_that_python_cannot_parse_safely_is_refused(
        tmp_path: Path, text: str, expected: str) -> None:
    code, output = check(tmp_path, wallets=text)
    assert code == 2
    assert expected in output and " — fix: " in output
    assert len(output.splitlines()) < 60


@pytest.mark.parametrize(("changes", "expected"), [
    ({"max_trade_frequency": 10**15}, "max_trade_frequency: must be from 1 to 1000000 copies"),
    ({"min_trade_interval_minutes": 10**9},
     "min_trade_interval_minutes: must be from 0 to 10080 minutes"),
    ({"target_wallets": [{"address": ALICE, "label": "whale\nTRADE EXECUTED"}]},
     "target_wallets[0].label: must be at most 64 characters without line breaks"),
    ({"target_wallets": [{"address": ALICE, "label": "\u202ewhale"}]},
     "target_wallets[0].label: must be at most 64 characters"),
    ({"target_wallets": [{"address": ALICE, "label": "w" * 10_000}]},
     "target_wallets[0].label: must be at most 64 characters"),
    ({"target_wallets": [{"address": ALICE, "sizing_value": 1e300}]},
     "target_wallets[0].sizing_value: must be from 0.000001 to 1000000"),
    ({"target_wallets": [{"address": ALICE, "max_position_size": 1e300}]},
     "target_wallets[0].max_position_size: must be from 0.000001 to 10000000 USDC"),
    ({"target_wallets": [f"0x{index:040x}" for index in range(1, 1_100)]},
     "target_wallets: lists 1099 wallets; at most 1000 can be watched"),
])
def test_meaningless_wallets_values_are_refused(tmp_path: Path, changes: dict[str, object],
                                                expected: str) -> None:
    code, output = check(tmp_path, wallets={**RUNBOOK_WALLETS, **changes})
    assert code == 2, output
    assert expected in output and " — fix: " in output
    assert "\n" + "TRADE EXECUTED" not in output and "\u202e" not in output
