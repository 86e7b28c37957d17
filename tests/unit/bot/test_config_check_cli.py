"""`polymarket-bot check-config`: exit codes, the runbook's lines, and no secret in the output."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import (
    ADDRESS,
    ALICE,
    KEY,
    RUNBOOK_WALLETS,
    TOKEN,
    env,
    secret_fragments,
    write_env,
    write_json,
)

from polymarket_bot import cli
from polymarket_bot.config import ConfigError, Settings, load_all

EXAMPLES = Path(__file__).parents[3] / "bot" / "config"


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's shell must not leak settings into these tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def wallets_file(tmp_path: Path) -> Path:
    return write_json(tmp_path / "wallets.json", RUNBOOK_WALLETS)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["check-config", *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert not any(piece in text for piece in secret_fragments(secret)), secret


def test_valid_paper_config_exits_0(tmp_path: Path, wallets_file: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    env_file = write_env(tmp_path / "bot.env", env(TELEGRAM_BOT_TOKEN=TOKEN,
                                                   TELEGRAM_CHAT_ID="-1001"))
    code, out, err = check(capsys, "--env-file", str(env_file), "--wallets", str(wallets_file))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "✅ Settings loaded successfully"
    assert lines[1] == "✅ All critical settings validated successfully"
    assert "mode=paper chain=137 (Polygon mainnet)" in lines[2]
    assert f"wallet={ADDRESS}" in lines[2]
    assert "targets=2 enabled of 2 sizing=fixed 10 USDC per copy" in lines[2]
    assert "MAINNET" not in out and err == ""
    assert_no_secret(out + err, KEY, TOKEN.split(":")[1])


def test_live_mainnet_prints_the_runbook_warning(tmp_path: Path, wallets_file: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    env_file = write_env(tmp_path / "bot.env",
                         env(TRADING_MODE="live", LIVE_TRADING_ACKNOWLEDGED="true"))
    code, out, err = check(capsys, "--env-file", str(env_file), "--wallets", str(wallets_file))
    assert code == 0
    assert out.splitlines()[:3] == [
        "✅ Settings loaded successfully",
        "🚨 MAINNET ENVIRONMENT - REAL FUNDS AT RISK 🚨",
        "✅ All critical settings validated successfully",
    ]
    assert "warning: TELEGRAM_BOT_TOKEN: is not set: live trading will send no alerts" in err


def test_invalid_config_exits_2_naming_every_problem(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad_key = KEY[:-3]
    env_file = write_env(tmp_path / "bot.env", env(
        PRIVATE_KEY=bad_key, MAX_DAILY_LOSS="-5", TRADING_MODE="live", UNKNOWN_THING=KEY))
    wallets = write_json(tmp_path / "wallets.json",
                         {**RUNBOOK_WALLETS, "target_wallets": [ALICE, "0x12"], "x": 1})
    code, out, err = check(capsys, "--env-file", str(env_file), "--wallets", str(wallets))
    assert code == 2
    assert "validated successfully" not in out and "Settings loaded" not in out
    assert "❌ Configuration invalid: 6 problem(s)" in err
    for expected in (
        "bot.env line 6: UNKNOWN_THING is not a known setting",
        "PRIVATE_KEY: has 61 hex digits but a private key needs exactly 64 — fix:",
        "MAX_DAILY_LOSS: must be from 0.000001 to 10000000 USDC (got -5) — fix: set a value in",
        "LIVE_TRADING_ACKNOWLEDGED: TRADING_MODE=live on Polygon mainnet",
        "fix: set LIVE_TRADING_ACKNOWLEDGED=true",
        "target_wallets[1]: has 2 hex digits",
        "x: is not a known wallets.json key",
    ):
        assert expected in err
    assert_no_secret(out + err, KEY, bad_key)


def test_wallets_problems_alone_still_exit_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    env_file = write_env(tmp_path / "bot.env", env(WALLETS_FILE=str(tmp_path / "missing.json")))
    code, out, err = check(capsys, "--env-file", str(env_file))
    assert code == 2
    assert out.splitlines() == ["✅ Settings loaded successfully"]
    assert "WALLETS_FILE: file not found" in err


def test_reads_the_process_environment_by_default(wallets_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in env(WALLETS_FILE=str(wallets_file)).items():
        monkeypatch.setenv(name, value)
    code, out, _err = check(capsys)
    assert code == 0
    assert "All critical settings validated successfully" in out
    monkeypatch.setenv("MAX_POSITION_SIZE", "0")
    code, _out, err = check(capsys)
    assert code == 2 and "MAX_POSITION_SIZE: must be from 0.000001 to 10000000 USDC (got 0)" in err


def test_shipped_examples_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, "--env-file", str(EXAMPLES / "bot.env.example"),
                           "--wallets", str(EXAMPLES / "wallets.example.json"))
    assert code == 0, err
    assert "targets=2 enabled of 3" in out
    assert_no_secret(out + err, "0x" + "11" * 32)


def test_load_all_reports_both_files_in_one_error(tmp_path: Path) -> None:
    wallets = tmp_path / "wallets.json"
    wallets.write_text('{"target_wallets": ["0x1"], // no\n}')
    with pytest.raises(ConfigError) as caught:
        load_all(environ=env(MAX_DAILY_LOSS="0", WALLETS_FILE=str(wallets)))
    assert [problem.source for problem in caught.value.problems] == ["env", "wallets"]
    settings, config = load_all(environ=env(), wallets_file=write_json(
        tmp_path / "ok.json", RUNBOOK_WALLETS))
    assert settings.wallet_address == ADDRESS and len(config.enabled()) == 2


def test_help_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as shown:
        cli.main(["check-config", "--help"])
    assert shown.value.code == 0
    assert "--env-file" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        cli.main(["check-config", "--nope"])
    assert refused.value.code == 2
