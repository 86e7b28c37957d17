"""Exit sizing: the fraction the target sold, of what we copied from it, capped at what we hold."""

from __future__ import annotations

from policy_helpers import D, ctx, fill, market, position

from polymarket_bot.models import Side
from polymarket_bot.policy import Skip, reasons
from polymarket_bot.policy.exits import exit_fraction, exit_shares


def shares(sold: str, held_before, copied: str, holding: str, min_size: str = "5"):
    return exit_shares(fill(Side.SELL, size=sold),
                       ctx(position=position(holding, 1), copied_shares=D(copied),
                           target_held_before=None if held_before is None else D(held_before)),
                       market(min_order_size=D(min_size)))


def test_fraction() -> None:
    assert exit_fraction(D(25), D(100)) == D("0.25")
    assert exit_fraction(D(150), D(100)) == 1  # sold more than we knew of: all of it
    assert exit_fraction(D(25), None) == 1  # unknown holding: full exit (see exits.py)
    assert exit_fraction(D(25), D(0)) == 1


def test_partial_exit_of_what_we_copied() -> None:
    assert shares("25", "100", copied="40", holding="40") == D(10)


def test_only_what_we_copied_from_this_wallet_is_sold() -> None:
    # We hold 100 shares, 40 of them from this wallet; the target exits fully.
    assert shares("100", "100", copied="40", holding="100") == D(40)


def test_unknown_target_holding_is_a_full_exit_of_our_copy() -> None:
    assert shares("1", None, copied="40", holding="100") == D(40)


def test_never_sell_more_than_we_hold() -> None:
    assert shares("100", "100", copied="40", holding="30") == D(30)


def test_a_remainder_below_the_minimum_is_sold_with_the_exit() -> None:
    # 90 % of 40 = 36 would leave 4 shares that the CLOB would never let us sell alone.
    assert shares("90", "100", copied="40", holding="40") == D(40)
    assert shares("80", "100", copied="40", holding="40") == D(32)  # leaves 8: fine


def test_sizes_are_rounded_down_to_the_clob_precision() -> None:
    assert shares("1", "3", copied="100.009", holding="200") == D("33.33")


def test_nothing_copied_or_nothing_held() -> None:
    for copied, holding in (("0", "50"), ("50", "0")):
        result = shares("10", "100", copied=copied, holding=holding)
        assert isinstance(result, Skip) and result.reason == reasons.NOTHING_TO_EXIT
    result = exit_shares(fill(Side.SELL), ctx(copied_shares=D(10)), market())
    assert isinstance(result, Skip) and result.reason == reasons.NOTHING_TO_EXIT
