"""Limit prices on the tick grid in the safe direction; share counts rounded down, never up."""

from __future__ import annotations

import pytest
from policy_helpers import D, fill, market

from polymarket_bot.models import Side
from polymarket_bot.policy import SizingMode, Skip, reasons
from polymarket_bot.policy.sizing import below_minimum, buy_shares, floor_shares, limit_price


@pytest.mark.parametrize(("side", "target", "slippage", "tick", "expected"), [
    (Side.BUY, "0.5234", "0.005", "0.01", "0.52"),  # 0.5284 rounds DOWN: never pay above cap
    (Side.BUY, "0.5234", "0.005", "0.001", "0.528"),
    (Side.BUY, "0.5234", "0.005", "0.0001", "0.5284"),
    (Side.BUY, "0.54", "0", "0.1", "0.5"),
    (Side.SELL, "0.5234", "0.005", "0.01", "0.52"),  # 0.5184 rounds UP: never sell below floor
    (Side.SELL, "0.5234", "0.005", "0.1", "0.6"),
    (Side.SELL, "0.5234", "0.005", "0.0001", "0.5184"),
    (Side.BUY, "0.98", "0.05", "0.01", "0.99"),  # clamped down to 1 - tick: cheaper, safe
    (Side.SELL, "0.02", "0.05", "0.01", "0.01"),  # clamped up to the tick: dearer, safe
])
def test_limit_price(side: Side, target: str, slippage: str, tick: str, expected: str) -> None:
    price = limit_price(side, D(target), D(slippage), D(tick))
    assert price == D(expected)
    assert price % D(tick) == 0


@pytest.mark.parametrize(("side", "target", "tick"), [
    (Side.BUY, "0.005", "0.01"),  # the only valid buy price (0.01) is above the cap
    (Side.SELL, "0.995", "0.01"),  # the only valid sell price (0.99) is below the floor
    (Side.BUY, "0.05", "0.1"),
])
def test_no_valid_price_inside_the_cap(side: Side, target: str, tick: str) -> None:
    result = limit_price(side, D(target), D(0), D(tick))
    assert isinstance(result, Skip) and result.reason == reasons.NO_VALID_PRICE


def test_floor_shares_rounds_down_to_the_clob_precision() -> None:
    assert floor_shares(D("9.6199")) == D("9.61")
    assert floor_shares(D("5")) == D("5.00")


def test_fixed_sizing_spends_at_most_the_amount() -> None:
    shares = buy_shares(SizingMode.FIXED, D(5), fill(), D("0.52"), None)
    assert shares == D("9.61") and shares * D("0.52") <= 5


def test_proportional_sizing_is_a_ratio_of_the_target_shares() -> None:
    assert buy_shares(SizingMode.PROPORTIONAL, D("0.1"), fill(size="123.456"), D("0.5"),
                      None) == D("12.34")


def test_balance_pct_sizing() -> None:
    assert buy_shares(SizingMode.BALANCE_PCT, D(5), fill(), D("0.25"), D(200)) == D(40)
    for balance in (None, D(0)):
        result = buy_shares(SizingMode.BALANCE_PCT, D(5), fill(), D("0.25"), balance)
        assert isinstance(result, Skip) and result.reason == reasons.NO_BALANCE


def test_minimum_size_and_notional() -> None:
    five = market(min_order_size=D(5))
    assert below_minimum(D("4.99"), D("0.5"), five) is not None
    assert below_minimum(D(5), D("0.19"), five) is not None  # 0.95 USDC
    assert below_minimum(D(5), D("0.2"), five) is None  # exactly 1 USDC and 5 shares
