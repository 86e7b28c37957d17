"""Prices and sizes of our copies, rounded the way the CLOB accepts them and never past a limit.

Rounding always goes in the direction that keeps us inside the slippage cap and the budget: a buy's
limit price rounds down, a sell's up, and share counts round down. A copy that ends up below the
market's minimum is skipped, never rounded up.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from polymarket_bot.models import MarketInfo, Side, TargetFill
from polymarket_bot.policy import reasons
from polymarket_bot.policy.limits import SizingMode
from polymarket_bot.policy.reasons import Skip

SIZE_STEP = Decimal("0.01")  # the CLOB's share precision
MIN_NOTIONAL_USDC = Decimal(1)  # the CLOB's minimum order value


def floor_shares(shares: Decimal) -> Decimal:
    return shares.quantize(SIZE_STEP, rounding=ROUND_FLOOR)


def _to_tick(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return ((price / tick).to_integral_value(rounding=rounding) * tick).quantize(tick)


def limit_price(side: Side, target_price: Decimal, slippage: Decimal,
                tick: Decimal) -> Decimal | Skip:
    """The worst price we accept: the target's price moved by the slippage cap, on the tick grid.

    The clamp to [tick, 1 - tick] is only applied where it moves the price in our favour; where it
    would have to move against us (a buy cap below one tick, a sell floor above 1 - tick) there is
    no valid price inside the cap and the copy is skipped.
    """
    lowest, highest = tick, 1 - tick
    if side is Side.BUY:
        price = min(_to_tick(target_price + slippage, tick, ROUND_FLOOR), highest)
        if price < lowest:
            return Skip(reasons.NO_VALID_PRICE,
                        f"buy cap {target_price} + {slippage} is below the lowest price {lowest}")
    else:
        price = max(_to_tick(target_price - slippage, tick, ROUND_CEILING), lowest)
        if price > highest:
            return Skip(reasons.NO_VALID_PRICE,
                        f"sell floor {target_price} - {slippage} is above the highest price "
                        f"{highest}")
    return price


def buy_shares(mode: SizingMode, value: Decimal, fill: TargetFill, price: Decimal,
               collateral: Decimal | None) -> Decimal | Skip:
    """Shares to buy for one copied fill, before the position cap; `price` is our limit price."""
    if mode is SizingMode.FIXED:
        return floor_shares(value / price)
    if mode is SizingMode.PROPORTIONAL:
        return floor_shares(value * fill.size)
    if collateral is None or collateral <= 0:
        return Skip(reasons.NO_BALANCE,
                    f"balance_pct sizing needs our balance, which is {collateral}")
    return floor_shares(value / 100 * collateral / price)


def below_minimum(shares: Decimal, price: Decimal, market: MarketInfo) -> str | None:
    """Why an order of `shares` at `price` is too small for the CLOB, or None when it is not."""
    if shares < market.min_order_size:
        return f"{shares} shares < the market's minimum {market.min_order_size}"
    notional = shares * price
    if notional < MIN_NOTIONAL_USDC:
        return f"{shares} shares x {price} = {notional} USDC < {MIN_NOTIONAL_USDC} USDC"
    return None
