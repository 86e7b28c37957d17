"""The exchange's order rules: amount precision, price range and tick, minimum sizes.

Limit orders (GTC/GTD) must sit on the tick grid and be at least the market's minimum size;
marketable orders must be worth at least $1. Amount precision follows the rounding the official
clients apply per tick size, so anything they build passes and hand-made amounts do not.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ..core import Market, Side
from . import errors
from .errors import OrderRejected
from .orders import MARKET_ORDER_TYPES, SignedOrder

ONE = Decimal(1)

# (size decimals, amount decimals) the clients round to, per tick size
PRECISION = {Decimal("0.1"): (2, 3), Decimal("0.01"): (2, 4), Decimal("0.005"): (2, 5),
             Decimal("0.0025"): (2, 6), Decimal("0.001"): (2, 5), Decimal("0.0001"): (2, 6)}


def check_signed(signed: SignedOrder, order_type: str, market: Market, order_id: str) -> None:
    """Refuse a signed order whose amounts, price or size break the market's rules."""
    tick = market.tick_size
    is_market = order_type in MARKET_ORDER_TYPES
    _check_precision(signed, is_market, *PRECISION.get(tick, (2, 6)))
    price = signed.price
    if not tick <= price <= ONE - tick:
        raise OrderRejected(errors.invalid_price(_readable(price), tick))
    if is_market:  # a market order's price is only its worst acceptable price
        return
    if price % tick:
        raise OrderRejected(errors.tick_rule(order_id, _readable(price), tick))
    if signed.shares < market.min_order_size:
        raise OrderRejected(errors.below_min_size(order_id, signed.shares, market.min_order_size))


def check_marketable(side: Side, order_type: str, size: Decimal, limit: Decimal,
                     amount: Decimal | None) -> None:
    """A marketable BUY (and a market SELL) must be worth at least $1."""
    if side is Side.BUY:
        value = amount if amount is not None else size * limit
        if value < ONE:
            raise OrderRejected(errors.marketable_min("BUY", value))
    elif order_type in MARKET_ORDER_TYPES and size * limit < ONE:
        raise OrderRejected(errors.marketable_min("SELL", size * limit))


def _check_precision(signed: SignedOrder, is_market: bool, size_decimals: int,
                     amount_decimals: int) -> None:
    maker = _decimals(signed.maker_amount)
    taker = _decimals(signed.taker_amount)
    if signed.side is Side.BUY:
        # a limit BUY gives collateral (amount precision) for shares (size precision); a market
        # BUY is built the other way round, and clients post limit-built orders as FAK too
        limit_ok = maker <= amount_decimals and taker <= size_decimals
        market_ok = maker <= size_decimals and taker <= amount_decimals
        if limit_ok or (is_market and market_ok):
            return
        kind = "market buy" if is_market else "buy"
        first, second = (size_decimals, amount_decimals) if is_market else (
            amount_decimals, size_decimals)
    else:
        if maker <= size_decimals and taker <= amount_decimals:
            return
        kind = "market sell" if is_market else "sell"
        first, second = size_decimals, amount_decimals
    raise OrderRejected(f"invalid amounts, the {kind} orders maker amount supports a max accuracy "
                        f"of {first} decimals, taker amount a max of {second} decimals")


def _decimals(units: int) -> int:
    """Decimal places of a 6-decimal fixed-point amount (5_500_000 -> 1)."""
    places = 6
    while places and units % 10 == 0:
        units //= 10
        places -= 1
    return places


def _readable(price: Decimal) -> Decimal:
    """An implied price as the API prints it (at most 16 significant digits)."""
    return price.quantize(Decimal("1e-16"), ROUND_HALF_EVEN).normalize()
