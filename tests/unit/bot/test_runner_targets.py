"""The live targets' labels, asked for every copied trade's alert, follow wallets.json."""

from __future__ import annotations

from config_helpers import ALICE, BOB, RUNBOOK_WALLETS

from polymarket_bot.config import TargetWallet, WalletsConfig
from polymarket_bot.runner import _Targets

LIMITS = {k: v for k, v in RUNBOOK_WALLETS.items() if k != "target_wallets"}


def _config(*targets: TargetWallet) -> WalletsConfig:
    return WalletsConfig(targets=list(targets), **LIMITS)


def test_a_label_is_found_by_address_in_any_case_and_follows_a_reload() -> None:
    targets = _Targets(_config(TargetWallet(address=ALICE, label="whale"),
                               TargetWallet(address=BOB)))
    assert targets.label(ALICE) == "whale"
    assert targets.label(ALICE.lower()) == "whale"
    assert targets.label(BOB) is None  # listed without a label
    assert targets.label("0x" + "ab" * 20) is None  # not a target
    targets.replace(_config(TargetWallet(address=BOB, label="shark")))
    assert targets.label(ALICE) is None
    assert targets.label(BOB.upper().replace("0X", "0x")) == "shark"
