"""No configuration message ever shows the private key, the Telegram token or the RPC URL's key.

`check-config` output lands in Ansible's log, so this holds whatever the env file holds: the key
alone on a line, as a variable name, in a wrong field, inside a garbled line, in upper case.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from config_helpers import KEY, KEY_HEX, RUNBOOK_WALLETS, TOKEN, leaked, run_cli, write_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polymarket_bot.config import Settings

RPC_KEY = "SecretProviderKey0123456789"
RPC_URL = f"https://polygon-mainnet.example.com/v2/{RPC_KEY}"
TOKEN_SECRET = TOKEN.split(":")[1]
SECRETS = (KEY_HEX, TOKEN_SECRET, RPC_KEY)

KEY_FORMS = [KEY, KEY_HEX, KEY.upper(), KEY_HEX.upper(), f'"{KEY}"', f"'{KEY_HEX}'"]
SECRET_FORMS = [*KEY_FORMS, TOKEN, RPC_URL, RPC_KEY]
NAMES = [*Settings.model_fields, "UNKNOWN_THING", "max_daily_loss", "export"]


@pytest.fixture(autouse=True)
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def check_file(text: str, directory: Path) -> tuple[int, str]:
    env_file = directory / "bot.env"
    env_file.write_text(text)
    wallets = write_json(directory / "wallets.json", RUNBOOK_WALLETS)
    return run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets))


CONFIG = (f"PRIVATE_KEY={KEY}\nPOLYGON_RPC_URL={RPC_URL}\nTELEGRAM_BOT_TOKEN={TOKEN}\n"
          "TELEGRAM_CHAT_ID=-1001\nMAX_POSITION_SIZE=50\nMAX_DAILY_LOSS=100\n")


@pytest.mark.parametrize("line", [
    KEY_HEX, KEY, f"{KEY_HEX}=", f"{KEY}=1", f"{KEY_HEX}=1", f"export {KEY_HEX}",
    f"{KEY_HEX.upper()}", f"PRIVATE_KEY {KEY}", f"{TOKEN}", f"{TOKEN}=1", f"{RPC_URL}",
    f"{RPC_URL}=1", f"MAX_DAILY_LOSS={KEY}", f"LOG_LEVEL={TOKEN}", f"TELEGRAM_CHAT_ID={KEY}",
    f"MARKET_ALLOWLIST={KEY_HEX}x", f"TELEGRAM_CHAT_ID={RPC_URL}", f"PRIVATE_KEY={KEY}",
])
def test_a_secret_on_a_line_of_its_own_or_as_a_name_is_never_printed(
        tmp_path: Path, line: str) -> None:
    code, output = check_file(CONFIG + line + "\n", tmp_path)
    assert code == 2, output
    # Reported by its line number, or by the setting it names.
    assert "bot.env line 7:" in output or f"  {line.split('=')[0]}: " in output, output
    assert leaked(output, *SECRETS) == []


def test_a_key_pasted_as_a_name_is_reported_without_it(tmp_path: Path) -> None:
    code, output = check_file(CONFIG + f"{KEY_HEX}=1\n{KEY}\n", tmp_path)
    assert code == 2
    assert "bot.env line 7: has a name that is not a setting name" in output
    assert "bot.env line 8: is not a NAME=value line" in output


def test_a_misspelt_setting_is_still_named(tmp_path: Path) -> None:
    code, output = check_file(CONFIG + "MAX_DAILY_LOS=5\nLOG_LEVEL\n", tmp_path)
    assert code == 2
    assert "MAX_DAILY_LOS is not a known setting — fix: did you mean MAX_DAILY_LOSS?" in output
    assert "LOG_LEVEL has no '=' and no value" in output


def test_the_rpc_key_is_hidden_from_the_wallets_file_problems(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text(CONFIG)
    wallets = tmp_path / "wallets.json"
    wallets.write_text(f'{{"target_wallets": ["{RPC_KEY}"], "x{KEY_HEX[:20]}": 1}}')
    code, output = run_cli("check-config", "--env-file", str(env_file), "--wallets", str(wallets))
    assert code == 2 and "target_wallets[0]" in output
    assert leaked(output, *SECRETS) == []


_JUNK = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                              blacklist_characters="\"'\\`"), max_size=30)


@st.composite
def env_files(draw: st.DrawFn) -> str:
    """A config with the secrets on their own lines, and copies of them anywhere else: alone,
    as names, as values, inside other lines at any position, in any case."""
    lines = [draw(st.sampled_from([
        "MAX_POSITION_SIZE=50", "MAX_DAILY_LOSS=100", "TELEGRAM_CHAT_ID=-1001",
        "LOG_LEVEL=INFO", "# a comment", ""])) for _ in range(draw(st.integers(0, 4)))]
    lines += [draw(st.sampled_from(NAMES)) + "=" + draw(_JUNK)
              for _ in range(draw(st.integers(0, 3)))]
    lines += draw(st.lists(_JUNK, max_size=3))
    for _ in range(draw(st.integers(1, 4))):
        secret = draw(st.sampled_from(SECRET_FORMS))
        where = draw(st.sampled_from(["alone", "name", "value", "inside"]))
        if where == "alone" or not lines:
            lines.append(secret)
        elif where == "name":
            lines.append(f"{secret}={draw(_JUNK)}")
        elif where == "value":
            lines.append(f"{draw(st.sampled_from(NAMES))}={secret}")
        else:
            index = draw(st.integers(0, len(lines) - 1))
            at = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:at] + secret + lines[index][at:]
    lines = draw(st.permutations(lines))
    config = [f"PRIVATE_KEY={KEY}", f"POLYGON_RPC_URL={RPC_URL}", f"TELEGRAM_BOT_TOKEN={TOKEN}"]
    for line in config:
        lines.insert(draw(st.integers(0, len(lines))), line)
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_files())
def test_no_output_ever_contains_a_secret(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        code, output = check_file(text, Path(directory))
    assert code in (0, 2)
    assert leaked(output, *SECRETS) == [], output
