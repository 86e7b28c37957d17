"""Settings: every bad field named with its fix, all at once, and no secret in any output."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import ADDRESS, ALICE, KEY, KEY_HEX, TOKEN, by_field, env, secret_fragments
from pydantic import ValidationError

from polymarket_bot.config import ConfigError, Settings, load_settings, notes


def problems(environ: dict[str, str], env_file: Path | None = None) -> dict[str, str]:
    """field -> "message — fix: …" for a configuration that must fail."""
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file, environ=environ)
    return {field: str(problem) for field, problem in by_field(caught.value).items()}


def test_minimal_environment_gives_documented_defaults() -> None:
    settings = load_settings(environ=env())
    assert settings.TRADING_MODE == "paper"
    assert settings.CHAIN_ID == 137
    assert settings.CLOB_HOST == "https://clob.polymarket.com"
    assert settings.POLL_INTERVAL_SECONDS == 15
    assert settings.SOURCE_MODE == "both"
    assert (settings.SIZING_MODE, settings.SIZING_VALUE) == ("fixed", 10)
    assert str(settings.MAX_SLIPPAGE) == "0.02"
    assert settings.ORDER_TYPE == "FAK"
    assert (settings.MAX_POSITION_SIZE, settings.MAX_DAILY_LOSS) == (50, 100)
    assert settings.MARKET_ALLOWLIST == [] and settings.MARKET_DENYLIST == []
    assert str(settings.WALLETS_FILE) == "/etc/polymarket-bot/wallets.json"
    assert settings.kill_switch_path == Path("/var/lib/polymarket-bot/KILL_SWITCH")
    assert settings.wallet_address == ADDRESS
    assert settings.funder == ADDRESS
    assert settings.is_mainnet and not settings.is_live
    assert not settings.telegram_enabled


def test_values_are_normalised() -> None:
    settings = load_settings(environ=env(
        PRIVATE_KEY=KEY_HEX.upper(),  # no 0x, upper case
        CLOB_HOST="http://127.0.0.1:8080/",
        SIGNATURE_TYPE="2",
        FUNDER_ADDRESS=ALICE.lower(),
        MARKET_ALLOWLIST=" will-it-rain , 0x" + "AB" * 32 + ",,",
        LOG_LEVEL="debug",
        KILL_SWITCH_FILE="/run/stop",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_CHAT_ID="-1001234567890",
    ))
    assert settings.PRIVATE_KEY.get_secret_value() == KEY
    assert settings.CLOB_HOST == "http://127.0.0.1:8080"
    assert settings.FUNDER_ADDRESS == ALICE and settings.funder == ALICE
    assert settings.wallet_address == ADDRESS
    assert settings.MARKET_ALLOWLIST == ["will-it-rain", "0x" + "ab" * 32]
    assert settings.LOG_LEVEL == "DEBUG"
    assert settings.kill_switch_path == Path("/run/stop")
    assert settings.telegram_enabled


def test_empty_value_means_unset() -> None:
    settings = load_settings(environ=env(FUNDER_ADDRESS="", TELEGRAM_BOT_TOKEN="  "))
    assert settings.FUNDER_ADDRESS is None and settings.TELEGRAM_BOT_TOKEN is None
    assert "PRIVATE_KEY" in problems(env(PRIVATE_KEY=""))


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"PRIVATE_KEY": "0x" + "ab" * 31}, "PRIVATE_KEY", "has 62 hex digits but a private key needs "
                                                      "exactly 64"),
    ({"PRIVATE_KEY": ALICE}, "PRIVATE_KEY", "length of an address, not a key"),
    ({"PRIVATE_KEY": "0x" + "zz" * 32}, "PRIVATE_KEY", "is not hexadecimal"),
    ({"PRIVATE_KEY": "0x" + "00" * 32}, "PRIVATE_KEY", "not a valid secp256k1 private key"),
    ({"PRIVATE_KEY": None}, "PRIVATE_KEY", "is required but not set"),
    ({"POLYGON_RPC_URL": "polygon-rpc.com"}, "POLYGON_RPC_URL", "must be a http/https/ws/wss URL"),
    ({"CLOB_HOST": "ftp://clob"}, "CLOB_HOST", "must be a http/https URL"),
    ({"CHAIN_ID": "polygon"}, "CHAIN_ID", "must be a whole number (got polygon)"),
    ({"CHAIN_ID": "-1"}, "CHAIN_ID", "must be from 1 to 4503599627370476 (got -1)"),
    ({"SIGNATURE_TYPE": "4"}, "SIGNATURE_TYPE", "must be at most 3 (got 4)"),
    ({"FUNDER_ADDRESS": "0x1234"}, "FUNDER_ADDRESS", "has 4 hex digits but an address needs "
                                                     "exactly 40"),
    ({"FUNDER_ADDRESS": "0x" + "g" * 40}, "FUNDER_ADDRESS", "is not hexadecimal"),
    ({"TRADING_MODE": "yolo"}, "TRADING_MODE", "must be one of 'paper' or 'live' (got yolo)"),
    ({"LIVE_TRADING_ACKNOWLEDGED": "maybe"}, "LIVE_TRADING_ACKNOWLEDGED", "must be true or false"),
    ({"POLL_INTERVAL_SECONDS": "0"}, "POLL_INTERVAL_SECONDS",
     "must be from 0.1 to 3600 seconds (got 0)"),
    ({"POLL_INTERVAL_SECONDS": "inf"}, "POLL_INTERVAL_SECONDS", "must be from 0.1 to 3600"),
    ({"SOURCE_MODE": "websocket"}, "SOURCE_MODE", "must be one of"),
    ({"CHAIN_CONFIRMATIONS": "-1"}, "CHAIN_CONFIRMATIONS", "must be from 0 to 256 blocks"),
    ({"DATA_API_RATE_LIMIT_PER_10S": "5000"}, "DATA_API_RATE_LIMIT_PER_10S", "at most 1000"),
    ({"SIZING_VALUE": "0"}, "SIZING_VALUE", "must be from 0.000001 to 1000000 (got 0)"),
    ({"MAX_SLIPPAGE": "0.5"}, "MAX_SLIPPAGE", "must be less than 0.5"),
    ({"MAX_SLIPPAGE": "-0.01"}, "MAX_SLIPPAGE", "must be at least 0"),
    ({"ORDER_TYPE": "FOK"}, "ORDER_TYPE", "must be one of 'FAK' or 'GTC'"),
    ({"MAX_POSITION_SIZE": "-50"}, "MAX_POSITION_SIZE",
     "must be from 0.000001 to 10000000 USDC (got -50)"),
    ({"MAX_POSITION_SIZE": "fifty"}, "MAX_POSITION_SIZE", "must be a number (got fifty)"),
    ({"MAX_DAILY_LOSS": None}, "MAX_DAILY_LOSS", "is required but not set"),
    ({"MAX_OPEN_POSITIONS": "0"}, "MAX_OPEN_POSITIONS", "must be from 1 to 100000"),
    ({"MAX_PRICE": "1.5"}, "MAX_PRICE", "must be at most 1"),
    ({"MARKET_DENYLIST": "0x1234"}, "MARKET_DENYLIST", "neither a condition id"),
    ({"CIRCUIT_BREAKER_ERRORS": "0"}, "CIRCUIT_BREAKER_ERRORS", "must be from 1 to 1000 errors"),
    ({"TELEGRAM_BOT_TOKEN": "not-a-token", "TELEGRAM_CHAT_ID": "1"}, "TELEGRAM_BOT_TOKEN",
     "is not a Telegram bot token"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "my chat"}, "TELEGRAM_CHAT_ID",
     "is not a Telegram chat id"),
    ({"HEALTH_PORT": "70000"}, "HEALTH_PORT", "must be at most 65535"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "is not a log level"),
])
def test_bad_field_is_named_with_a_fix(changes: dict[str, str | None], field: str,
                                       expected: str) -> None:
    found = problems(env(**changes))
    assert list(found) == [field]
    assert expected in found[field]
    assert " — fix: " in found[field]


def test_message_reads_like_the_issue_example() -> None:
    assert problems(env(MAX_DAILY_LOSS="-5"))["MAX_DAILY_LOSS"] == (
        "MAX_DAILY_LOSS: must be from 0.000001 to 10000000 USDC (got -5) — fix: set a value in "
        "that range, such as 100")


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"MIN_PRICE": "0.6", "MAX_PRICE": "0.6"}, "MIN_PRICE", "must be below MAX_PRICE"),
    ({"TRADING_MODE": "live"}, "LIVE_TRADING_ACKNOWLEDGED",
     "set LIVE_TRADING_ACKNOWLEDGED=true"),
    ({"SIGNATURE_TYPE": "2"}, "FUNDER_ADDRESS", "is required with SIGNATURE_TYPE=2"),
    ({"SIGNATURE_TYPE": "1"}, "FUNDER_ADDRESS", "is required with SIGNATURE_TYPE=1"),
    ({"SIGNATURE_TYPE": "0", "FUNDER_ADDRESS": ALICE}, "FUNDER_ADDRESS",
     "SIGNATURE_TYPE=0 (EOA) trades from the key's own address"),
    ({"TELEGRAM_BOT_TOKEN": TOKEN}, "TELEGRAM_CHAT_ID", "set both TELEGRAM_BOT_TOKEN and"),
    ({"TELEGRAM_CHAT_ID": "-100123"}, "TELEGRAM_BOT_TOKEN", "set both TELEGRAM_BOT_TOKEN and"),
    ({"SIZING_MODE": "balance_pct", "SIZING_VALUE": "150"}, "SIZING_VALUE", "cannot exceed 100"),
    ({"MARKET_ALLOWLIST": "a,b", "MARKET_DENYLIST": "b"}, "MARKET_DENYLIST",
     "which MARKET_ALLOWLIST also lists"),
])
def test_cross_field_rules(changes: dict[str, str], field: str, expected: str) -> None:
    found = problems(env(**changes))
    assert list(found) == [field]
    assert expected in found[field]


def test_live_trading_is_allowed_when_acknowledged_or_off_mainnet() -> None:
    acknowledged = load_settings(environ=env(TRADING_MODE="live", LIVE_TRADING_ACKNOWLEDGED="true"))
    assert acknowledged.is_live and acknowledged.is_mainnet
    amoy = load_settings(environ=env(TRADING_MODE="live", CHAIN_ID="80002"))
    assert amoy.is_live and not amoy.is_mainnet
    safe = load_settings(environ=env(SIGNATURE_TYPE="2", FUNDER_ADDRESS=ALICE))
    assert safe.funder == ALICE and safe.wallet_address == ADDRESS


def test_every_problem_is_reported_in_one_pass() -> None:
    found = problems(env(
        PRIVATE_KEY="0x1234", MAX_DAILY_LOSS="-5", MIN_PRICE="0.9", MAX_PRICE="0.1",
        SIGNATURE_TYPE="3", TRADING_MODE="live", POLL_INTERVAL_SECONDS="soon",
    ))
    assert set(found) == {"PRIVATE_KEY", "MAX_DAILY_LOSS", "MIN_PRICE", "FUNDER_ADDRESS",
                          "LIVE_TRADING_ACKNOWLEDGED", "POLL_INTERVAL_SECONDS"}


def test_str_of_config_error_lists_one_problem_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env(MAX_DAILY_LOSS="-5", MAX_POSITION_SIZE="0"))
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert all(": " in line and " — fix: " in line for line in lines)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text(
        "# a comment\n"
        "\n"
        "export PRIVATE_KEY=" + KEY + "\n"
        "POLYGON_RPC_URL='https://polygon-rpc.com'\n"
        "MAX_POSITION_SIZE=50.0  # Conservative for production\n"
        "MAX_DAILY_LOSS=100.0\n"
        "POLL_INTERVAL_SECONDS=30\n"
    )
    settings = load_settings(env_file, environ={"POLL_INTERVAL_SECONDS": "5", "HOME": "/root"})
    assert str(settings.MAX_POSITION_SIZE) == "50.0"
    assert settings.POLL_INTERVAL_SECONDS == 5
    assert settings.wallet_address == ADDRESS


def test_env_file_problems_name_the_line(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text(
        f"PRIVATE_KEY={KEY}\n"
        "POLYGON_RPC_URL=https://polygon-rpc.com\n"
        "MAX_POSITION_SIZE=50\n"
        "MAX_DAILY_LOSS=100\n"
        "MAX_SLIPAGE=0.05\n"  # line 5: typo
        "max_daily_loss=5\n"  # line 6: lower case
        "MAX_DAILY_LOSS=200\n"  # line 7: repeated
        "JUST_A_NAME\n"  # line 8: no value
        f"SECRET_THING={KEY}\n"  # line 9: unknown, holding a secret
    )
    found = problems({}, env_file)
    assert "did you mean MAX_SLIPPAGE?" in found["bot.env line 5"]
    assert "rename it to MAX_DAILY_LOSS" in found["bot.env line 6"]
    assert "already set on line 4" in found["bot.env line 7"]
    # Not a known name: the line is not quoted, since it might be a pasted secret.
    assert found["bot.env line 8"].startswith("bot.env line 8: is not a NAME=value line")
    assert "SECRET_THING is not a known setting" in found["bot.env line 9"]
    assert not any(piece in text for text in found.values() for piece in secret_fragments(KEY))


def test_missing_env_file_is_a_problem(tmp_path: Path) -> None:
    found = problems(env(), tmp_path / "nope.env")
    assert "file not found" in found["--env-file"]


def test_unrelated_environment_variables_are_ignored() -> None:
    load_settings(environ=env(PATH="/usr/bin", HOME="/root", private_key="whatever"))


def test_notes_warn_without_failing() -> None:
    settings = load_settings(environ=env(CHAIN_ID="31337", TRADING_MODE="live",
                                         SIZING_VALUE="80"))
    fields = [note.field for note in notes(settings)]
    assert fields == ["CHAIN_ID", "TELEGRAM_BOT_TOKEN", "SIZING_VALUE"]
    assert notes(load_settings(environ=env())) == []


def test_settings_constructed_directly_still_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env(TRADING_MODE="live").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "LIVE_TRADING_ACKNOWLEDGED" in str(caught.value)
    monkeypatch.setenv("LIVE_TRADING_ACKNOWLEDGED", "true")
    monkeypatch.setenv("MARKET_DENYLIST", "a, b")
    settings = Settings()
    assert settings.MARKET_DENYLIST == ["a", "b"]
    assert settings.wallet_address == ADDRESS


def test_secrets_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(environ=env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_CHAT_ID="-1001"))
    token_core = TOKEN.split(":")[1]
    shown = [repr(settings), str(settings), repr(settings.model_dump()),
             settings.model_dump_json()]
    for text in shown:
        assert not any(piece in text for piece in secret_fragments(KEY))
        assert token_core[:8] not in text
        assert "polygon-rpc.com" not in repr(settings)  # the RPC URL may carry an API key
    assert settings.TELEGRAM_BOT_TOKEN is not None
    assert settings.TELEGRAM_BOT_TOKEN.get_secret_value() == TOKEN


@pytest.mark.parametrize("bad_key", [
    KEY[:-2],  # 62 digits
    KEY + "ab",  # 66 digits
    KEY[:-1] + "g",  # one non-hex digit
])
def test_a_bad_key_is_never_echoed(bad_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env(PRIVATE_KEY=bad_key))
    texts = [str(caught.value), repr(caught.value), *map(repr, caught.value.problems)]
    # A pydantic error from direct construction hides its input as well.
    for name, value in env(PRIVATE_KEY=bad_key).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as direct:
        Settings()
    texts += [str(direct.value), repr(direct.value)]
    for text in texts:
        assert not any(piece in text for piece in secret_fragments(bad_key)), text


def test_a_key_pasted_into_another_field_is_not_echoed() -> None:
    found = problems(env(FUNDER_ADDRESS=KEY, LOG_LEVEL=KEY_HEX, MARKET_DENYLIST=KEY + "00"))
    assert set(found) == {"FUNDER_ADDRESS", "LOG_LEVEL", "MARKET_DENYLIST"}
    for text in found.values():
        assert not any(piece in text for piece in secret_fragments(KEY)), text
