"""Random bytes and random structures through the real `check-config`: exit 2, never a traceback.

`run_cli` lets any exception escape, so "no traceback" is the test not raising.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from config_helpers import ALICE, BASE_ENV, BOB, RUNBOOK_WALLETS, run_cli, write_env, write_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polymarket_bot.config import Settings, TargetWallet, WalletsConfig

PROFILE = settings(max_examples=60, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PLACEHOLDER = "@@nasty@@"
# Each is wrong wherever it lands in wallets.json.
NASTY_JSON = ["1" + "0" * 5000, "1e999999", "-1e999999", "NaN", "Infinity",
              "[" * 3000 + "]" * 3000, '"\\u0000\\n"', '"\\u202e"', '"' + "w" * 5000 + '"',
              '"0x' + "f" * 64 + '"', "{" * 40 + "}" * 40]
# Each is wrong for every bounded number of the settings.
NASTY_NUMBERS = ["1e999999", "-1e999999", "NaN", "inf", "\u0661\u0660\u0660", "1_000", "9" * 5000,
                 "0x" + "f" * 64, "-5", "1e1000"]
NUMERIC = ["CHAIN_ID", "POLL_INTERVAL_SECONDS", "MAX_DAILY_LOSS", "MAX_POSITION_SIZE",
           "MIN_SOURCE_USDC", "MAX_OPEN_POSITIONS", "CHAIN_CONFIRMATIONS", "GTC_TTL_SECONDS",
           "SIZING_VALUE", "CIRCUIT_BREAKER_ERRORS", "HEALTH_PORT", "MAX_SLIPPAGE"]
KEYS = [*WalletsConfig.model_fields, "target_wallets", *TargetWallet.model_fields]


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def check(env_bytes: bytes, wallets_bytes: bytes) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as directory:
        env_file = Path(directory) / "bot.env"
        env_file.write_bytes(env_bytes)
        wallets = Path(directory) / "wallets.json"
        wallets.write_bytes(wallets_bytes)
        return run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets))


VALID_ENV = "".join(f"{name}={value}\n" for name, value in BASE_ENV.items()).encode()
VALID_WALLETS = json.dumps(RUNBOOK_WALLETS).encode()


@PROFILE
@given(st.binary(max_size=3000))
def test_random_bytes_as_the_env_file(data: bytes) -> None:
    code, output = check(data, VALID_WALLETS)
    assert code == 2, output


@PROFILE
@given(st.binary(max_size=3000))
def test_random_bytes_as_the_wallets_file(data: bytes) -> None:
    code, output = check(VALID_ENV, data)
    assert code == 2, output
    assert "wallets file:" in output


_leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
           | st.sampled_from([ALICE, BOB, ALICE.lower(), PLACEHOLDER]))
_json = st.recursive(_leaves, lambda children: st.lists(children, max_size=4)
                     | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children,
                                       max_size=5), max_leaves=25)


@PROFILE
@given(st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), _json, max_size=6),
       st.sampled_from(NASTY_JSON))
def test_random_structures_with_a_bad_value_as_the_wallets_file(
        document: dict[str, object], nasty: str) -> None:
    text = json.dumps(document)
    quoted = json.dumps(PLACEHOLDER)
    text = text.replace(quoted, nasty) if quoted in text else nasty
    code, output = check(VALID_ENV, text.encode())
    assert code == 2, output
    assert "wallets file:" in output


_one_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                    max_size=30)
_line = st.tuples(st.sampled_from([*Settings.model_fields, "junk"]), _one_line)


@PROFILE
@given(st.just([]) | st.lists(_line, max_size=8), st.sampled_from(NUMERIC),
       st.sampled_from(NASTY_NUMBERS),
       st.integers(0, 20))
def test_random_env_lines_with_a_bad_number(lines: list[tuple[str, str]], name: str,
                                            nasty: str, where: int) -> None:
    entries = [f"{key}={value}" for key, value in [*BASE_ENV.items(), *lines]]
    entries.insert(min(where, len(entries)), f"{name}={nasty}")
    code, output = check(("\n".join(entries) + "\n").encode(), VALID_WALLETS)
    assert code == 2, output
    assert "settings:" in output


def test_the_fuzzed_files_are_valid_without_the_bad_part(tmp_path: Path) -> None:
    """The baseline the fuzzing starts from: only the injected part makes it fail."""
    env_file = write_env(tmp_path / "bot.env", BASE_ENV)
    wallets = write_json(tmp_path / "wallets.json", RUNBOOK_WALLETS)
    code, output = run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets))
    assert code == 0, output
