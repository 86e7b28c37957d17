"""wallets.json: the runbook's format, per-wallet overrides, every mistake named with its fix."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from config_helpers import ALICE, BOB, RUNBOOK_WALLETS, by_field, write_json

from polymarket_bot.config import ConfigError, TargetWallet, WalletsConfig, load_wallets

EXAMPLE = Path(__file__).parents[3] / "bot" / "config" / "wallets.example.json"


def wallets(data: Any, tmp_path: Path) -> WalletsConfig:
    return load_wallets(write_json(tmp_path / "wallets.json", data))


def problems(data: Any, tmp_path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        wallets(data, tmp_path)
    assert all(problem.source == "wallets" for problem in caught.value.problems)
    return {field: str(problem) for field, problem in by_field(caught.value).items()}


def problems_of_text(text: str, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "wallets.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_wallets(path)
    return {field: str(problem) for field, problem in by_field(caught.value).items()}


def test_runbook_format_loads(tmp_path: Path) -> None:
    config = wallets(RUNBOOK_WALLETS, tmp_path)
    assert [target.address for target in config.targets] == [ALICE, BOB]
    assert config.min_confidence_score == 0.7
    assert config.max_trade_frequency == 10
    assert config.min_trade_interval_minutes == 5
    assert config.enabled() == config.targets
    assert config.targets[0] == TargetWallet(address=ALICE)


def test_addresses_are_checksummed(tmp_path: Path) -> None:
    config = wallets({**RUNBOOK_WALLETS, "target_wallets": [ALICE.lower(), BOB.upper()
                                                            .replace("0X", "0x")]}, tmp_path)
    assert [target.address for target in config.targets] == [ALICE, BOB]
    assert config.get(ALICE.lower()) is config.targets[0]
    assert config.get("0x" + "1" * 40) is None


def test_strings_and_objects_mix_with_overrides(tmp_path: Path) -> None:
    config = wallets({**RUNBOOK_WALLETS, "target_wallets": [
        ALICE,
        {"address": BOB, "label": "whale", "enabled": False, "confidence": 0.8,
         "sizing_mode": "proportional", "sizing_value": 0.5, "max_position_size": 25,
         "min_trade_interval_minutes": 0},
    ]}, tmp_path)
    bob = config.targets[1]
    assert (bob.label, bob.enabled, bob.confidence) == ("whale", False, 0.8)
    assert (bob.sizing_mode, bob.sizing_value) == ("proportional", Decimal("0.5"))
    assert bob.max_position_size == Decimal(25) and bob.min_trade_interval_minutes == 0
    assert [target.address for target in config.enabled()] == [ALICE]
    assert bob.name == "whale" and config.targets[0].name == "0x7099…79C8"


def test_shipped_example_is_valid() -> None:
    config = load_wallets(EXAMPLE)
    assert len(config.targets) == 3 and len(config.enabled()) == 2


@pytest.mark.parametrize(("entry", "expected"), [
    ("0x1234", "has 4 hex digits but an address needs exactly 40 (got 0x1234)"),
    ("0x" + "g" * 40, "is not hexadecimal"),
    (ALICE[2:], "must start with 0x"),
    ("0x...", "is a placeholder"),
    ("0x0000000000000000000000000000000000000000", "is the zero address"),
    (ALICE.replace("C51812", "c51812"), "has an invalid EIP-55 checksum"),
    (42, "must be an address string or an object"),
])
def test_bad_address_is_named(entry: Any, expected: str, tmp_path: Path) -> None:
    found = problems({**RUNBOOK_WALLETS, "target_wallets": [BOB, entry]}, tmp_path)
    assert list(found) == ["target_wallets[1]"]
    assert expected in found["target_wallets[1]"]
    assert "fix: copy the" in found["target_wallets[1]"]


def test_duplicates_are_rejected_whatever_their_case(tmp_path: Path) -> None:
    found = problems({**RUNBOOK_WALLETS,
                      "target_wallets": [ALICE, BOB, ALICE.lower(), {"address": BOB}]}, tmp_path)
    assert f"repeats {ALICE}, already listed at target_wallets[0]" in found["target_wallets[2]"]
    assert "already listed at target_wallets[1]" in found["target_wallets[3]"]


@pytest.mark.parametrize(("changes", "field", "expected"), [
    ({"min_confidence_score": 1.5}, "min_confidence_score", "must be at most 1"),
    ({"min_confidence_score": "high"}, "min_confidence_score", "must be a number"),
    ({"max_trade_frequency": 0}, "max_trade_frequency",
     "must be from 1 to 1000000 copies per hour (got 0)"),
    ({"min_trade_interval_minutes": -1}, "min_trade_interval_minutes",
     "must be from 0 to 10080 minutes (a week) (got -1)"),
    ({"max_trade_frequency": None}, "max_trade_frequency", "is required but not set"),
    ({"target_wallets": None}, "target_wallets", "is required but not set"),
    ({"target_wallets": []}, "target_wallets", "is empty"),
    ({"target_wallets": ALICE}, "target_wallets", "must be a list"),
    ({"min_trade_interval_minute": 5}, "min_trade_interval_minute",
     'did you mean "min_trade_interval_minutes"?'),
])
def test_bad_top_level_value_is_named(changes: dict[str, Any], field: str, expected: str,
                                      tmp_path: Path) -> None:
    data = {**RUNBOOK_WALLETS, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    found = problems(data, tmp_path)
    assert list(found) == [field]
    assert expected in found[field] and " — fix: " in found[field]


@pytest.mark.parametrize(("entry", "field", "expected"), [
    ({"address": ALICE, "colour": "red"}, "target_wallets[0].colour", "is not a known option"),
    ({"address": ALICE, "confidence": 2}, "target_wallets[0].confidence", "must be at most 1"),
    ({"address": ALICE, "sizing_value": -1}, "target_wallets[0].sizing_value",
     "must be from 0.000001 to 1000000 (got -1)"),
    ({"address": ALICE, "sizing_mode": "martingale", "sizing_value": 1},
     "target_wallets[0].sizing_mode", "must be one of"),
    ({"address": ALICE, "sizing_mode": "fixed"}, "target_wallets[0]", "without sizing_value"),
    ({"address": ALICE, "sizing_mode": "balance_pct", "sizing_value": 101}, "target_wallets[0]",
     "cannot exceed 100"),
    ({"address": ALICE, "max_position_size": 0}, "target_wallets[0].max_position_size",
     "must be from 0.000001 to 10000000 USDC (got 0)"),
    ({"address": ALICE, "enabled": "sometimes"}, "target_wallets[0].enabled",
     "must be true or false"),
    ({"label": "no address"}, "target_wallets[0].address", "is required but not set"),
])
def test_bad_wallet_option_is_named(entry: dict[str, Any], field: str, expected: str,
                                    tmp_path: Path) -> None:
    found = problems({**RUNBOOK_WALLETS, "target_wallets": [entry]}, tmp_path)
    assert list(found) == [field]
    assert expected in found[field] and " — fix: " in found[field]


def test_unknown_option_fix_lists_the_known_ones(tmp_path: Path) -> None:
    found = problems({**RUNBOOK_WALLETS, "target_wallets": [{"address": ALICE, "size": 1}]},
                     tmp_path)
    assert "a wallet object knows address, label, enabled" in found["target_wallets[0].size"]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    found = problems({
        "target_wallets": [ALICE, "0x12", ALICE, {"address": BOB, "confidence": -1}],
        "min_confidence_score": 7,
        "max_trade_frequency": 10,
        "extra": True,
    }, tmp_path)
    assert set(found) == {"target_wallets[1]", "target_wallets[2]",
                          "target_wallets[3].confidence", "min_confidence_score",
                          "min_trade_interval_minutes", "extra"}


def test_runbook_example_with_comments_is_rejected_clearly(tmp_path: Path) -> None:
    text = """{
  "target_wallets": [
    "0x...",  // Verified profitable traders
    "0x...",  // Additional traders
  ],
  "min_confidence_score": 0.7,
  "max_trade_frequency": 10,
  "min_trade_interval_minutes": 5
}
"""
    found = problems_of_text(text, tmp_path)
    assert list(found) == ["wallets.json line 3 column 15", "wallets.json line 4 column 15"]
    assert "JSON has no comments" in found["wallets.json line 3 column 15"]
    assert "// Verified profitable traders" in found["wallets.json line 3 column 15"]


def test_slashes_inside_strings_are_not_comments(tmp_path: Path) -> None:
    path = write_json(tmp_path / "w.json", {
        **RUNBOOK_WALLETS,
        "target_wallets": [{"address": ALICE, "label": "see https://x.example/a \\\" // b"}],
    })
    assert load_wallets(path).targets[0].label == 'see https://x.example/a \\" // b'


def test_block_comments_are_rejected(tmp_path: Path) -> None:
    found = problems_of_text('/* targets */ {"target_wallets": []}', tmp_path)
    assert "JSON has no comments" in found["wallets.json line 1 column 1"]


def test_trailing_comma_is_named(tmp_path: Path) -> None:
    text = json.dumps(RUNBOOK_WALLETS, indent=2).replace(f'"{BOB}"', f'"{BOB}",')
    found = problems_of_text(text, tmp_path)
    [(field, message)] = found.items()
    assert field == "wallets.json line 5 column 3"
    assert "comma after the last item" in message


def test_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    found = problems_of_text("{\n  'target_wallets': []\n}", tmp_path)
    [(field, message)] = found.items()
    assert field == "wallets.json line 2 column 3"
    assert "is not valid JSON" in message and "double quotes" in message


def test_repeated_keys_and_nan_are_rejected(tmp_path: Path) -> None:
    text = (f'{{"target_wallets": ["{ALICE}"], "min_confidence_score": NaN, '
            '"max_trade_frequency": 10, "max_trade_frequency": 100, '
            '"min_trade_interval_minutes": 5}')
    found = problems_of_text(text, tmp_path)
    assert "appears twice" in found['wallets.json key "max_trade_frequency"']
    assert "contains NaN, which is not a usable number" in found["wallets.json"]


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    found = problems([ALICE], tmp_path)
    assert "must contain a JSON object" in found["wallets.json"]


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_wallets(tmp_path / "absent.json")
    [problem] = caught.value.problems
    assert problem.field == "WALLETS_FILE" and "file not found" in problem.message


def test_direct_construction_rejects_duplicates() -> None:
    with pytest.raises(ValueError, match="more than once"):
        WalletsConfig(targets=[TargetWallet(address=ALICE), TargetWallet(address=ALICE)],
                      min_confidence_score=0, max_trade_frequency=1,
                      min_trade_interval_minutes=0)
