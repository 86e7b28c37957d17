"""Paper trading: the live pipeline, with fills simulated against the real order book.

An order takes what the book offers NOW up to its limit price, as a taker order would: FAK keeps
what filled and kills the rest, FOK fills completely or not at all, GTC/GTD rest the remainder
as a paper open order that `lookup` fills later if the book comes to cross it. The exchange's
refusals are replayed with its wording (minimum size, $1 marketable minimum, balance), so the
journal reads the same in both modes. Paper orders live in the store: after a restart a lookup
or a re-post answers exactly as before, and never fills an order twice.

Simplification: our simulated fills do not consume the real book, so two paper orders in a row
can both take the same level.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal

from polymarket_bot.execution.base import ONE, SignedOrder, check_order
from polymarket_bot.execution.errors import ExchangeError
from polymarket_bot.models import Book, MarketInfo, OrderIntent, OrderResult, Side
from polymarket_bot.state import PaperOrder, Store
from polymarket_bot.state.ledger import ZERO, q6, text

BookSource = Callable[[str], Awaitable[Book]]


class PaperExchange:
    mode = "paper"

    def __init__(self, book_source: BookSource, store: Store, *,
                 starting_balance: Decimal = Decimal(1000)) -> None:
        self._books = book_source
        self._store = store
        self._starting_balance = Decimal(starting_balance)

    async def book(self, token_id: str) -> Book:
        return await self._books(token_id)

    async def collateral_balance(self) -> Decimal:
        spent, reserved = self._store.paper_cash_flow()
        return self._starting_balance - spent - reserved

    async def sign(self, intent: OrderIntent, market: MarketInfo) -> SignedOrder:
        check_order(intent, market)
        # deterministic: the same intent is the same paper order, before and after a restart
        order_id = "0x" + hashlib.sha256(intent.id.encode()).hexdigest()
        return SignedOrder(order_id=order_id, payload={
            "paper": True, "intentId": intent.id, "tokenId": intent.token_id,
            "side": intent.side.value, "size": text(intent.size),
            "price": text(intent.limit_price), "orderType": intent.order_type})

    async def post(self, signed: SignedOrder, order_type: str) -> OrderResult:
        known = self._store.paper_order(signed.order_id)
        if known is not None:
            return _result(known)  # a re-post after a crash: the order already happened
        payload = signed.payload
        side = Side(payload["side"])
        size, limit = Decimal(payload["size"]), Decimal(payload["price"])
        try:
            book = await self._books(payload["tokenId"])
        except ExchangeError as exc:
            return _rejected(signed.order_id, f"paper: no order book ({exc})", retryable=True)
        filled, cost = _take(book, side, limit, size)
        refusal = self._refusal(book, side, size, limit, order_type, bool(filled))
        if refusal:
            return _rejected(signed.order_id, refusal)
        if (order_type == "FOK" and filled < size) or (order_type == "FAK" and not filled):
            status, filled, cost = "unmatched", ZERO, ZERO
        elif filled == size or order_type in ("FAK", "FOK"):
            status = "matched"
        else:
            status = "live"
        order = PaperOrder(order_id=signed.order_id, token_id=payload["tokenId"], side=side,
                           size=size, limit_price=limit, order_type=order_type, status=status,
                           filled_size=filled, cost=cost, created_at=time.time())
        self._store.save_paper_order(order)
        return _result(order)

    def _refusal(self, book: Book, side: Side, size: Decimal, limit: Decimal,
                 order_type: str, marketable: bool) -> str | None:
        """The exchange's reason to refuse this order outright, in its words and its order of
        checks: price, minimum size, $1 minimum of a marketable order, then funds."""
        tick = book.tick_size
        if not tick <= limit <= ONE - tick:
            return f"invalid price ({text(limit)}), min: {text(tick)} - max: {text(ONE - tick)}"
        if order_type in ("GTC", "GTD") and size < book.min_order_size:
            return f"Size ({text(size)}) lower than the minimum: {text(book.min_order_size)}"
        value = size * limit
        if marketable and value < ONE and (side is Side.BUY or order_type in ("FAK", "FOK")):
            return (f"invalid amount for a marketable {side.value} order "
                    f"(${text(value.normalize())}), min size: $1")
        if side is Side.BUY:
            spent, reserved = self._store.paper_cash_flow()
            if size * limit > self._starting_balance - spent - reserved:
                return "not enough balance / allowance"
        else:
            held = self._store.position(book.token_id)
            if held is None or held.size < size:
                return "not enough balance / allowance"
        return None

    async def lookup(self, order_id: str) -> OrderResult:
        order = self._store.paper_order(order_id)
        if order is None:
            return OrderResult(order_id=order_id, status="not_found")
        if order.status != "live":
            return _result(order)
        # a resting order fills once the book crosses its price (it would have been hit)
        try:
            book = await self._books(order.token_id)
        except ExchangeError:
            return _result(order)  # what we know so far is still true
        more, cost = _take(book, order.side, order.limit_price, order.size - order.filled_size)
        if more:
            filled = order.filled_size + more
            order = replace(order, filled_size=filled, cost=order.cost + cost,
                            status="matched" if filled == order.size else "live")
            self._store.save_paper_order(order)
        return _result(order)

    async def cancel(self, order_id: str) -> None:
        order = self._store.paper_order(order_id)
        if order is not None and order.status == "live":
            self._store.save_paper_order(replace(order, status="canceled"))

    async def close(self) -> None:
        closer = getattr(self._books, "aclose", None)
        if closer is not None:
            await closer()


def _take(book: Book, side: Side, limit: Decimal, size: Decimal) -> tuple[Decimal, Decimal]:
    """Walk the opposite side of the book up to the limit: (shares filled, pUSD they cost)."""
    filled = cost = ZERO
    for level in book.asks if side is Side.BUY else book.bids:
        if (level.price > limit) if side is Side.BUY else (level.price < limit):
            break
        take = min(level.size, size - filled)
        filled += take
        cost += take * level.price
        if filled >= size:
            break
    return filled, q6(cost)


def _result(order: PaperOrder) -> OrderResult:
    average = order.cost / order.filled_size if order.filled_size else None
    return OrderResult(order_id=order.order_id, status=order.status,
                       filled_size=order.filled_size, avg_price=average)


def _rejected(order_id: str, error: str, *, retryable: bool = False) -> OrderResult:
    return OrderResult(order_id=order_id, status="rejected", error=error, retryable=retryable)
