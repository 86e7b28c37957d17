"""Limits from the config objects, per-wallet rules and validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from policy_helpers import ALICE, BOB, D

from polymarket_bot.policy import Limits, SizingMode, WalletRule


@dataclass
class Settings:  # the names polymarket_bot.config exposes
    MAX_POSITION_SIZE: float | None = 50.0
    MAX_DAILY_LOSS: float | None = 100.0
    MAX_OPEN_POSITIONS: int | None = 8
    MIN_PRICE: float | None = 0.05
    MAX_PRICE: float | None = 0.95
    MIN_SOURCE_USDC: float | None = 10.0
    MARKET_ALLOWLIST: object = None
    MARKET_DENYLIST: object = "Some-Slug, 0xABC"
    MAX_FILL_AGE_SECONDS: float | None = 120
    SIZING_MODE: str | None = "Fixed"
    SIZING_VALUE: float | None = 0.1
    MAX_SLIPPAGE: float | None = 0.02
    ORDER_TYPE: str | None = "gtc"


@dataclass
class Target:
    address: str
    label: str | None = None
    enabled: bool | None = None
    confidence: float | None = None
    sizing_mode: str | None = None
    sizing_value: float | None = None
    max_position_size: float | None = None
    min_trade_interval_minutes: float | None = None
    exit_policy: str | None = None


@dataclass
class Wallets:
    targets: list = field(default_factory=list)
    min_confidence_score: float | None = 0.7
    max_trade_frequency: int | None = 10
    min_trade_interval_minutes: float | None = 5


def test_from_config_reads_every_setting() -> None:
    wallets = Wallets(targets=[
        Target(ALICE, label="alice", confidence=0.8, sizing_mode="proportional",
               sizing_value=0.5, max_position_size=20, min_trade_interval_minutes=1,
               exit_policy="hold"),
        Target(BOB, enabled=False),
    ])
    limits = Limits.from_config(Settings(), wallets)
    assert limits.for_wallet(ALICE).exit_policy == "hold"
    assert limits.for_wallet(BOB).exit_policy == "mirror"

    assert limits.max_position_usdc == D(50) and isinstance(limits.max_position_usdc, Decimal)
    assert limits.max_daily_loss_usdc == D(100)
    assert limits.max_open_positions == 8
    assert (limits.min_price, limits.max_price) == (D("0.05"), D("0.95"))
    assert limits.min_source_usdc == D(10)
    assert limits.market_allowlist == frozenset()
    assert limits.market_denylist == {"some-slug", "0xabc"}
    assert limits.max_fill_age_s == 120
    assert limits.sizing_mode is SizingMode.FIXED and limits.sizing_value == D("0.1")
    assert limits.max_slippage == D("0.02") and limits.order_type == "GTC"
    assert limits.min_confidence == 0.7 and limits.max_trades_per_hour == 10
    assert limits.min_trade_interval_s == 300

    alice = limits.for_wallet(ALICE.lower())
    assert alice.known and alice.enabled and alice.label == "alice" and alice.confidence == 0.8
    assert alice.sizing_mode is SizingMode.PROPORTIONAL and alice.sizing_value == D("0.5")
    assert alice.max_position_usdc == D(20) and alice.min_trade_interval_s == 60
    bob = limits.for_wallet(BOB)
    assert bob.known and not bob.enabled
    assert bob.sizing_mode is SizingMode.FIXED and bob.max_position_usdc == D(50)
    assert bob.confidence is None and bob.min_trade_interval_s == 300


def test_from_config_keeps_defaults_for_unset_optional_settings() -> None:
    @dataclass
    class Minimal:
        MAX_POSITION_SIZE: str = "25"
        MAX_DAILY_LOSS: Decimal = Decimal(10)

    limits = Limits.from_config(Minimal(), Wallets(targets=["0x" + "12" * 20]))
    assert limits.max_position_usdc == D(25)
    assert limits.sizing_mode is SizingMode.FIXED and limits.order_type == "FAK"
    assert limits.for_wallet("0x" + "12" * 20).known


@pytest.mark.parametrize("missing", ["MAX_POSITION_SIZE", "MAX_DAILY_LOSS"])
def test_from_config_requires_the_money_limits(missing: str) -> None:
    settings = Settings(**{missing: None})
    with pytest.raises(ValueError, match=missing):
        Limits.from_config(settings, Wallets())


def test_unknown_wallet_gets_a_disabled_rule() -> None:
    rule = Limits(D(50), D(100)).for_wallet(ALICE)
    assert not rule.known and not rule.enabled


def test_wallet_override_never_loosens_the_global_cap() -> None:
    limits = Limits(D(50), D(100), wallets=(WalletRule(ALICE, max_position_usdc=D(500)),))
    assert limits.for_wallet(ALICE).max_position_usdc == D(50)


def test_floats_become_exact_decimals() -> None:
    limits = Limits(50.1, 100, max_slippage=0.1)
    assert limits.max_position_usdc == D("50.1") and limits.max_slippage == D("0.1")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_position_usdc": -1}, "max_position_usdc"),
    ({"max_daily_loss_usdc": -1}, "max_daily_loss_usdc"),
    ({"min_price": "0.9", "max_price": "0.1"}, "min_price"),
    ({"max_slippage": 1}, "max_slippage"),
    ({"order_type": "IOC"}, "order_type"),
    ({"sizing_value": 0}, "sizing_value"),
    ({"sizing_mode": "balance_pct", "sizing_value": 150}, "percent"),
    ({"max_open_positions": -1}, "max_open_positions"),
    ({"wallets": (WalletRule(ALICE), WalletRule(ALICE.lower()))}, "twice"),
    ({"wallets": (WalletRule(ALICE, sizing_value=D(-1)),)}, "wallet"),
])
def test_invalid_limits_are_rejected(kwargs: dict, message: str) -> None:
    fields = {"max_position_usdc": 50, "max_daily_loss_usdc": 100} | kwargs
    with pytest.raises(ValueError, match=message):
        Limits(**fields)


def test_unknown_sizing_mode_is_rejected() -> None:
    with pytest.raises(ValueError):
        Limits(D(50), D(100), sizing_mode="martingale")
