"""The arithmetic of our books, apart from SQL: average cost, realized P&L, copied shares.

Amounts are Decimal and are kept to the chain's precision (6 decimals), so sums in the database
equal the sums of the rows they came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
UNIT = Decimal("0.000001")


def q6(amount: Decimal) -> Decimal:
    """An amount at the chain's 6-decimal precision."""
    return amount.quantize(UNIT, rounding=ROUND_HALF_EVEN)


def text(amount: Decimal) -> str:
    """A Decimal as stored: plain notation, never an exponent or a float."""
    return format(amount, "f")


@dataclass(frozen=True)
class Holding:
    size: Decimal
    cost: Decimal
    realized: Decimal


def buy(held: Holding, size: Decimal, notional: Decimal, fee: Decimal) -> Holding:
    """Shares bought for `notional` pUSD: the fee is part of what they cost."""
    return Holding(held.size + size, q6(held.cost + notional + fee), held.realized)


def sell(held: Holding, size: Decimal, notional: Decimal, fee: Decimal) -> tuple[Holding, Decimal]:
    """Shares sold for `notional` pUSD at average cost; returns the new holding and the P&L.

    Selling more than held (never possible on the exchange, but possible in a damaged file)
    releases the whole cost basis and no more.
    """
    released = q6(held.cost * min(size, held.size) / held.size) if held.size > 0 else ZERO
    remaining = held.size - size
    cost = ZERO if remaining <= 0 else q6(held.cost - released)
    pnl = q6(notional - fee - released)
    return Holding(remaining, cost, held.realized + pnl), pnl


def remove_copied(copied: dict[str, Decimal], wallet: str, size: Decimal) -> dict[str, Decimal]:
    """What each wallet's copy holds after we sold `size` shares on `wallet`'s exit.

    The sale comes out of that wallet's copy first; anything beyond it (a sale larger than its
    copy) comes out of the other wallets' copies in proportion to what each holds. Never below 0.
    """
    result = dict(copied)
    own = result.get(wallet, ZERO)
    taken = min(own, size)
    result[wallet] = own - taken
    rest = size - taken
    others = {w: s for w, s in result.items() if w != wallet and s > 0}
    total = sum(others.values(), ZERO)
    if rest > 0 and total > 0:
        share = min(rest / total, Decimal(1))
        for other, shares in others.items():
            result[other] = max(ZERO, q6(shares - shares * share))
    return result
