"""The `Exchange` interface the engine trades through, live (the CLOB) or paper (simulated).

The engine's crash-safety protocol rests on three properties every implementation keeps:
- `sign` gives an order an id before it is posted, and the payload can be stored and posted
  again later: re-posting the SAME signed order can never fill twice.
- `post` answers with an `OrderResult`, never raises for an exchange-side failure; a result with
  `retryable=True` means the same signed order may be posted again.
- `lookup` answers `not_found` only if the exchange never accepted the order; when it cannot
  tell (outage), it raises `ExchangeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from polymarket_bot.execution.errors import InvalidOrder
from polymarket_bot.models import Book, MarketInfo, OrderIntent, OrderResult

ONE = Decimal(1)
SHARE_STEP = Decimal("0.01")  # orders carry whole hundredths of a share (the exchange's rule)


@dataclass(frozen=True)
class SignedOrder:
    """An order ready to post; `payload` is JSON-serialisable and is what the store keeps."""

    order_id: str
    payload: dict = field(repr=False)


class Exchange(Protocol):
    mode: str  # "live" or "paper"

    async def book(self, token_id: str) -> Book: ...

    async def sign(self, intent: OrderIntent, market: MarketInfo) -> SignedOrder: ...

    async def post(self, signed: SignedOrder, order_type: str) -> OrderResult: ...

    async def lookup(self, order_id: str) -> OrderResult: ...

    async def cancel(self, order_id: str) -> None: ...

    async def collateral_balance(self) -> Decimal: ...

    async def close(self) -> None: ...


def check_order(intent: OrderIntent, market: MarketInfo) -> None:
    """Refuse an intent the exchange would refuse for its shape, before signing anything.

    Sizes are never rounded here: rounding belongs to policy, which knows the limits a
    rounded-up size could break.
    """
    if intent.token_id != market.token_id:
        raise InvalidOrder(f"intent {intent.id} is for token {intent.token_id}, "
                           f"not {market.token_id}")
    tick = market.tick_size
    price = intent.limit_price
    if not tick <= price <= ONE - tick or price % tick:
        raise InvalidOrder(f"limit price {price} is not on the tick grid {tick} "
                           f"between {tick} and {ONE - tick}")
    if intent.order_type == "GTD" and intent.expires_at is None:
        raise InvalidOrder("a GTD order needs an expiry (expires_at)")
    if intent.size <= 0 or intent.size % SHARE_STEP:
        raise InvalidOrder(f"size {intent.size} is not a positive multiple of {SHARE_STEP}")
