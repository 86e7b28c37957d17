"""One outcome token's resting orders, by price level, oldest first within a level."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ..core import Side


@dataclass(slots=True, eq=False)
class Order:
    """An order the engine knows: resting, filled, cancelled or killed."""

    order_id: str
    seq: int  # arrival order: time priority within a price level
    owner: str  # API key ("" for scripted actors)
    user: str  # lower-case address whose orders/trades these are (API key's wallet or funder)
    maker: str  # funder address whose balances move
    market: str  # condition id
    token_id: str
    outcome: str
    side: Side
    price: Decimal
    original_size: Decimal  # shares
    order_type: str
    expiration: int
    created_at: int
    unlimited: bool = False
    size_matched: Decimal = Decimal(0)
    status: str = "LIVE"  # LIVE, MATCHED, CANCELED
    reserved: Decimal = Decimal(0)  # collateral (BUY) or shares (SELL) still held for this order
    associate_trades: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched


class Book:
    """Bids and asks of one token; prices kept sorted ascending for both sides."""

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        self.levels: dict[Side, dict[Decimal, deque[Order]]] = {Side.BUY: {}, Side.SELL: {}}
        self.prices: dict[Side, list[Decimal]] = {Side.BUY: [], Side.SELL: []}

    def add(self, order: Order) -> None:
        levels = self.levels[order.side]
        level = levels.get(order.price)
        if level is None:
            level = levels[order.price] = deque()
            bisect.insort(self.prices[order.side], order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        levels = self.levels[order.side]
        level = levels.get(order.price)
        if level is None:
            return
        try:
            level.remove(order)
        except ValueError:
            return
        if not level:
            del levels[order.price]
            prices = self.prices[order.side]
            del prices[bisect.bisect_left(prices, order.price)]

    def best(self, side: Side) -> Decimal | None:
        prices = self.prices[side]
        if not prices:
            return None
        return prices[-1] if side is Side.BUY else prices[0]

    def walk(self, side: Side) -> Iterator[Order]:
        """Resting orders of one side, best price first, oldest first within a price.

        The book must not change while the walk is consumed (planning a match only reads it).
        """
        prices = self.prices[side]
        levels = self.levels[side]
        for price in reversed(prices) if side is Side.BUY else prices:
            yield from levels[price]

    def depth(self, side: Side) -> list[tuple[Decimal, Decimal]]:
        """(price, total remaining shares) per level, best first."""
        levels = self.levels[side]
        prices = reversed(self.prices[side]) if side is Side.BUY else self.prices[side]
        return [(p, sum((o.remaining for o in levels[p]), Decimal(0))) for p in prices]

    def __len__(self) -> int:
        return sum(len(level) for side in self.levels.values() for level in side.values())
