"""The matching engine: books, price-time priority, order types and the balances they move.

A binary market's two tokens share liquidity as on Polymarket: a BUY of one outcome also matches
BUY orders of the other outcome whose prices sum to at least 1 (the exchange mints a pair), and a
SELL matches SELLs of the other outcome (it merges a pair). Each book therefore shows the other
token's orders mirrored (price 1 - p), and a taker order walks both in price-time order.

Every taker order that fills becomes one `core.Match` recorded in the ledger; the chain mines it and
the Data API shows it. Balances move at match time; open orders hold (reserve) what they may spend.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from functools import lru_cache

from ..addresses import contracts
from ..context import Sim
from ..core import MakerFill, Market, Match, Side, checksum, new_id
from . import errors, orders, rules
from .auth import ApiKey, ApiKeys
from .book import Book, Order
from .errors import OrderRejected

ONE = Decimal(1)
ZERO = Decimal(0)
SHARE_STEP = Decimal("0.000001")  # outcome tokens have 6 decimals
# An ERC-20 allowance this large is never decreased by transfers (OpenZeppelin's max-uint rule).
INFINITE_ALLOWANCE = Decimal(10) ** 50
# GTD orders expire this long before their expiration, so the field must be at least this far off.
GTD_SECURITY_SECONDS = 60


@dataclass
class PlaceResult:
    order_id: str
    status: str  # "live" (rests), "matched" (filled at least partly)
    match: Match | None
    making_amount: Decimal  # what the order gave: collateral for a BUY, shares for a SELL
    taking_amount: Decimal  # what it got
    order: Order


@dataclass
class BookSnapshot:
    token_id: str
    market: str
    bids: list[tuple[Decimal, Decimal]]  # (price, size), best first
    asks: list[tuple[Decimal, Decimal]]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool
    last_trade_price: Decimal | None
    timestamp_ms: int

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


@dataclass(slots=True)
class _Fill:
    maker: Order
    size: Decimal
    price: Decimal  # what the taker pays or gets per share


@dataclass
class _Taker:
    """An incoming order, however it arrived (signed over HTTP or scripted)."""

    order: Order
    market: Market
    limit: Decimal
    # A market BUY spends a collateral amount (buys as many shares as it gets); every other
    # order trades a number of shares.
    amount: Decimal | None
    order_type: str
    post_only: bool
    checked: bool  # apply the exchange's minimums (signed orders) or not (scripted actors)
    fills: list[_Fill] = field(default_factory=list)


class Engine:
    """All books of the simulated CLOB; `sim.engine` once built."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.api_keys = ApiKeys(sim.chain_id)
        self.books: dict[str, Book] = {}
        self.orders: dict[str, Order] = {}
        # Real ERC-20 semantics, where buying spends a finite allowance, are opt-in: accounts are
        # funded with an allowance equal to their collateral, which is meant as "approved".
        self.consume_allowance = False
        self._live: dict[str, dict[str, Order]] = defaultdict(dict)  # user -> live orders
        self._trades: dict[str, list[Match]] = defaultdict(list)  # user -> matches, oldest first
        self._reserved_collateral: dict[str, Decimal] = defaultdict(Decimal)  # funder -> pUSD
        self._reserved_shares: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        self._expiries: list[tuple[int, int, str]] = []  # (expires at, seq, order id)
        self._funders: dict[tuple[str, int], str] = {}  # (EOA, signature type) -> funder
        self.last_side: dict[str, Side] = {}  # token -> taker side of its last trade
        self._seq = itertools.count(1)
        self._lock = threading.RLock()
        sim.engine = self

    # --- entry points ----------------------------------------------------------------------

    def submit(self, post: orders.OrderPost, api_key: ApiKey) -> PlaceResult:
        """A signed order from `POST /order`, checked as the real exchange checks it."""
        signed = post.order
        if post.owner != api_key.key:
            raise OrderRejected(errors.OWNER_MISMATCH)
        market = self.sim.markets.by_token(signed.token_id)
        if market is None:
            raise OrderRejected(errors.INVALID_PAYLOAD)
        verified = orders.verify(signed, self.sim.chain_id, market.neg_risk)
        if verified.eoa != api_key.address.lower():
            raise OrderRejected(errors.SIGNER_MISMATCH)
        if signed.signature_type != orders.EOA:
            known = self._funders.get((verified.eoa, signed.signature_type))
            if known is not None and known != signed.maker.lower():
                raise OrderRejected(errors.OWNER_MISMATCH)
        if not market.active or market.closed:
            raise OrderRejected(errors.MARKET_NOT_READY)
        refusal = self.sim.geoblock.refusal(signed.side)
        if refusal is not None:
            raise OrderRejected(*refusal)
        order_id = verified.order_hash
        if post.post_only and post.order_type in orders.MARKET_ORDER_TYPES:
            raise OrderRejected(errors.INVALID_PAYLOAD)
        now = int(time.time())
        if post.order_type == "GTD" and signed.expiration < now + GTD_SECURITY_SECONDS:
            raise OrderRejected(errors.INVALID_EXPIRATION)
        price = signed.price
        rules.check_signed(signed, post.order_type, market, order_id)
        is_market = post.order_type in orders.MARKET_ORDER_TYPES
        amount = signed.collateral if is_market and signed.side is Side.BUY else None
        order = Order(
            order_id=order_id, seq=0, owner=api_key.key, user=api_key.address.lower(),
            maker=signed.maker.lower(), market=market.condition_id, token_id=signed.token_id,
            outcome=market.outcomes[market.outcome_index(signed.token_id)].name,
            side=signed.side, price=_quantize_price(price, market.tick_size),
            original_size=signed.shares, order_type=post.order_type,
            expiration=signed.expiration if post.order_type == "GTD" else 0, created_at=now)
        taker = _Taker(order=order, market=market, limit=price, amount=amount,
                       order_type=post.order_type, post_only=post.post_only, checked=True)
        result = self._run(taker)
        if signed.signature_type != orders.EOA:
            self._funders[(verified.eoa, signed.signature_type)] = signed.maker.lower()
        return result

    def place(self, address: str, token_id: str, side: Side, price: Decimal, size: Decimal,
              order_type: str = "GTC", post_only: bool = False, owner: str = "",
              unlimited: bool = False, expiration: int = 0) -> PlaceResult:
        """A scripted actor's order: no signature, no HTTP, the same books and rules of matching.

        `unlimited` orders need no funds (market-maker liquidity); `size` is always in shares;
        `expiration` (unix seconds) applies to GTD orders. Raises OrderRejected like the API would
        (no liquidity for FOK/FAK, post-only crossing...).
        """
        market = self.sim.markets.by_token(str(token_id))
        if market is None:
            raise OrderRejected(f"unknown token_id {token_id}")
        price, size = Decimal(price), Decimal(size)
        if order_type not in orders.ORDER_TYPES or size <= 0:
            raise OrderRejected(errors.INVALID_PAYLOAD)
        tick = market.tick_size
        if not tick <= price <= ONE - tick:
            raise OrderRejected(errors.invalid_price(price, tick))
        user = (self.api_keys.address_of(owner) or address) if owner else address
        order_id = new_id()
        if price % tick:
            raise OrderRejected(errors.tick_rule(order_id, price, tick))
        order = Order(
            order_id=order_id, seq=0, owner=owner, user=user.lower(), maker=address.lower(),
            market=market.condition_id, token_id=str(token_id),
            outcome=market.outcomes[market.outcome_index(str(token_id))].name, side=Side(side),
            price=price, original_size=size.quantize(SHARE_STEP, ROUND_DOWN),
            order_type=order_type, expiration=expiration if order_type == "GTD" else 0,
            created_at=int(time.time()), unlimited=unlimited)
        taker = _Taker(order=order, market=market, limit=price, amount=None,
                       order_type=order_type, post_only=post_only, checked=False)
        return self._run(taker)

    def cancel(self, order_ids: Iterable[str], user: str) -> tuple[list[str], dict[str, str]]:
        """Cancel the user's live orders among `order_ids`: (canceled, {id: reason})."""
        canceled: list[str] = []
        not_canceled: dict[str, str] = {}
        with self._lock:
            for order_id in dict.fromkeys(order_ids):
                order = self.orders.get(order_id)
                if order is None or order.user != user.lower() or order.status == "CANCELED":
                    not_canceled[order_id] = errors.ORDER_NOT_FOUND
                elif order.status != "LIVE":
                    not_canceled[order_id] = "order already matched"
                else:
                    self._cancel(order)
                    canceled.append(order_id)
        return canceled, not_canceled

    def cancel_where(self, user: str, market: str | None = None,
                     asset_id: str | None = None) -> list[str]:
        """Cancel all of a user's live orders, optionally only in one market or token."""
        with self._lock:
            chosen = [o for o in self._live.get(user.lower(), {}).values()
                      if (not market or o.market == market)
                      and (not asset_id or o.token_id == asset_id)]
            for order in chosen:
                self._cancel(order)
        return [o.order_id for o in chosen]

    def close_market(self, market: Market) -> list[str]:
        """A resolved market takes no more orders: cancel every resting one and drop its books."""
        tokens = {outcome.token_id for outcome in market.outcomes}
        with self._lock:
            canceled = [order for order in self.orders.values()
                        if order.token_id in tokens and order.status == "LIVE"]
            for order in canceled:
                self._cancel(order)
            for token in tokens:
                self.books.pop(token, None)
        return [order.order_id for order in canceled]

    def expire(self, now: float | None = None) -> None:
        """Cancel GTD orders that are due (also done lazily before every match and snapshot)."""
        with self._lock:
            self._expire_due(time.time() if now is None else now)

    # --- queries ---------------------------------------------------------------------------

    def book(self, token_id: str) -> BookSnapshot | None:
        market = self.sim.markets.by_token(str(token_id))
        if market is None:
            return None
        token_id = str(token_id)
        with self._lock:
            self._expire_due(time.time())
            bids = dict(self._book(token_id).depth(Side.BUY))
            asks = dict(self._book(token_id).depth(Side.SELL))
            other = _complement(market, token_id)
            if other is not None:
                book = self._book(other)
                for price, size in book.depth(Side.SELL):  # their asks are our bids
                    bids[ONE - price] = bids.get(ONE - price, ZERO) + size
                for price, size in book.depth(Side.BUY):
                    asks[ONE - price] = asks.get(ONE - price, ZERO) + size
        return BookSnapshot(
            token_id=token_id, market=market.condition_id,
            bids=sorted(bids.items(), reverse=True), asks=sorted(asks.items()),
            tick_size=market.tick_size, min_order_size=market.min_order_size,
            neg_risk=market.neg_risk, last_trade_price=market.last_trade_price.get(token_id),
            timestamp_ms=int(time.time() * 1000))

    def open_orders(self, owner: str | None = None, address: str | None = None) -> list[Order]:
        """Live orders, oldest first, of an API key and/or an address (user or funder)."""
        with self._lock:
            self._expire_due(time.time())
            if address is not None:
                wanted = address.lower()
                found = {o.order_id: o for o in self._live.get(wanted, {}).values()}
                for live in self._live.values():
                    for order in live.values():
                        if order.maker == wanted:
                            found[order.order_id] = order
                candidates: Iterable[Order] = found.values()
            else:
                candidates = [o for live in self._live.values() for o in live.values()]
            result = [o for o in candidates if owner is None or o.owner == owner]
        return sorted(result, key=lambda o: o.seq)

    def get_order(self, order_id: str) -> Order | None:
        with self._lock:
            self._expire_due(time.time())
            return self.orders.get(order_id)

    def trades_of(self, user: str) -> list[Match]:
        """The matches a user took part in (as taker or maker), newest first."""
        with self._lock:
            return list(reversed(self._trades.get(user.lower(), ())))

    def taker_user(self, match: Match) -> str:
        order = self.orders.get(match.taker_order_id)
        return order.user if order else match.taker.lower()

    def reserved(self, address: str, token_id: str | None = None) -> Decimal:
        """What open orders hold: pUSD, or shares of `token_id`."""
        with self._lock:
            if token_id is None:
                return self._reserved_collateral.get(address.lower(), ZERO)
            return self._reserved_shares.get((address.lower(), str(token_id)), ZERO)

    def register_wallet(self, owner: str, funder: str, signature_type: int = 2) -> None:
        """Declare the proxy/safe/deposit wallet an EOA trades through (else learnt from orders)."""
        self._funders[(owner.lower(), signature_type)] = funder.lower()

    def funder_of(self, owner: str, signature_type: int) -> str:
        """The address holding funds for an EOA's orders of a signature type."""
        if signature_type == orders.EOA:
            return owner.lower()
        return self._funders.get((owner.lower(), signature_type), owner.lower())

    # --- validation ------------------------------------------------------------------------

    def _check_funds(self, taker: _Taker) -> None:
        order = taker.order
        if order.unlimited:
            return
        account = self.sim.accounts.get(order.maker)
        # the approvals the exchange settling this market needs, as the chain holds them
        exchange = contracts(self.sim.chain_id).exchange(taker.market.neg_risk)
        if order.side is Side.BUY:
            need = taker.amount if taker.amount is not None else order.original_size * taker.limit
            spendable = min(account.collateral, account.allowance_for(exchange))
            have = spendable - self._reserved_collateral.get(order.maker, ZERO)
        else:
            need = order.original_size
            approved = account.operator_approved(exchange)
            held = account.shares.get(order.token_id, ZERO) if approved else ZERO
            have = held - self._reserved_shares.get((order.maker, order.token_id), ZERO)
        if need > have:
            raise OrderRejected(errors.NOT_ENOUGH_BALANCE)

    # --- matching --------------------------------------------------------------------------

    def _run(self, taker: _Taker) -> PlaceResult:
        order = taker.order
        with self._lock:
            if order.order_id in self.orders:
                raise OrderRejected(errors.duplicated(order.order_id))
            self._expire_due(time.time())
            complete = self._plan(taker)
            if taker.checked and taker.fills:
                rules.check_marketable(order.side, order.order_type, order.original_size,
                                       taker.limit, taker.amount)
            self._check_funds(taker)
            if taker.post_only and taker.fills:
                raise OrderRejected(errors.POST_ONLY_CROSSES)
            if taker.order_type == "FOK" and not complete:
                raise OrderRejected(errors.FOK_NOT_FILLED)
            if taker.order_type == "FAK" and not taker.fills:
                raise OrderRejected(errors.FAK_NO_MATCH)
            order.seq = next(self._seq)
            self.orders[order.order_id] = order
            match = self._apply(taker) if taker.fills else None
            making, taking = _taker_amounts(taker)
            if order.order_type in ("GTC", "GTD") and order.remaining > 0:
                self._rest(order)
                status = "matched" if match else "live"
            else:
                order.status = "MATCHED"
                status = "matched"
        if match is not None:
            # outside the lock: listeners (chain, data API) may take their own locks
            self.sim.ledger.record(match)
        return PlaceResult(order_id=order.order_id, status=status, match=match,
                           making_amount=making, taking_amount=taking, order=order)

    def _plan(self, taker: _Taker) -> bool:
        """Choose the resting orders the taker fills, without changing anything.

        Returns whether the order would be filled completely.
        """
        order = taker.order
        buying = order.side is Side.BUY
        remaining = order.original_size
        budget = taker.amount
        # a budget is spent once what is left cannot buy one more share unit at the limit
        dust = taker.limit * SHARE_STEP
        for price, maker in self._opposite(taker.market, order.token_id, order.side):
            if (price > taker.limit) if buying else (price < taker.limit):
                break
            if budget is not None:
                size = min(maker.remaining, (budget / price).quantize(SHARE_STEP, ROUND_DOWN))
                if size <= 0:
                    break
                budget -= size * price
            else:
                size = min(maker.remaining, remaining)
                remaining -= size
            taker.fills.append(_Fill(maker, size, price))
            if (budget < dust) if budget is not None else remaining <= 0:
                break
        return (budget < dust) if budget is not None else remaining <= 0

    def _opposite(self, market: Market, token_id: str,
                  side: Side) -> Iterator[tuple[Decimal, Order]]:
        """Orders a taker can fill, best first: the token's own opposite side, merged with the
        complement token's same side at mirrored prices (1 - p)."""
        own = ((o.price, o) for o in self._book(token_id).walk(side.opposite))
        other = _complement(market, token_id)
        if other is None:
            return own
        mirrored = ((ONE - o.price, o) for o in self._book(other).walk(side))
        if side is Side.BUY:
            return heapq.merge(own, mirrored, key=lambda item: (item[0], item[1].seq))
        return heapq.merge(own, mirrored, key=lambda item: (-item[0], item[1].seq))

    def _apply(self, taker: _Taker) -> Match:
        order = taker.order
        match_id = str(uuid.uuid4())
        makers: list[MakerFill] = []
        total_size = total_cost = ZERO
        for fill in taker.fills:
            maker = fill.maker
            self._settle(maker, maker.price, fill.size)
            self._settle(order, fill.price, fill.size)
            maker.size_matched += fill.size
            maker.associate_trades.append(match_id)
            if maker.remaining <= 0:
                maker.status = "MATCHED"
                self._unrest(maker)
            makers.append(MakerFill(order_id=maker.order_id, maker=checksummed(maker.maker),
                                    owner=maker.owner,
                                    side=maker.side, token_id=maker.token_id, price=maker.price,
                                    size=fill.size))
            if maker.token_id != order.token_id:  # a mint/merge also trades the other outcome
                taker.market.last_trade_price[maker.token_id] = maker.price
                self.last_side[maker.token_id] = maker.side
            total_size += fill.size
            total_cost += fill.size * fill.price
        order.size_matched = total_size
        order.associate_trades.append(match_id)
        average = (total_cost / total_size).quantize(SHARE_STEP, ROUND_HALF_EVEN)
        taker.market.last_trade_price[order.token_id] = taker.fills[-1].price
        self.last_side[order.token_id] = order.side
        match = Match(match_id=match_id, taker_order_id=order.order_id,
                      taker=checksummed(order.maker), taker_owner=order.owner, side=order.side,
                      condition_id=order.market, token_id=order.token_id, price=average,
                      size=total_size, makers=makers)
        users = {order.user} | {m.user for m in (f.maker for f in taker.fills)}
        for user in users:
            self._trades[user].append(match)
        return match

    def _settle(self, order: Order, price: Decimal, size: Decimal) -> None:
        """Move one side of a fill: the buyer pays and receives shares, the seller the reverse."""
        if order.reserved > 0:  # a resting maker: what it held for this fill is now spent
            self._release(order, price * size if order.side is Side.BUY else size)
        if order.unlimited:
            return
        # the exchange moves whole units of pUSD (6 decimals)
        cost = (price * size).quantize(SHARE_STEP, ROUND_HALF_EVEN)
        account = self.sim.accounts.get(order.maker)
        if order.side is Side.BUY:
            account.collateral -= cost
            if self.consume_allowance and account.allowance < INFINITE_ALLOWANCE:
                account.allowance -= cost
            account.shares[order.token_id] += size
        else:
            account.shares[order.token_id] -= size
            account.collateral += cost

    # --- resting, reserving, cancelling --------------------------------------------------------

    def _rest(self, order: Order) -> None:
        self._book(order.token_id).add(order)
        self._live[order.user][order.order_id] = order
        if not order.unlimited:
            if order.side is Side.BUY:
                order.reserved = order.remaining * order.price
                self._reserved_collateral[order.maker] += order.reserved
            else:
                order.reserved = order.remaining
                self._reserved_shares[(order.maker, order.token_id)] += order.reserved
        if order.expiration:
            heapq.heappush(self._expiries, (order.expiration - GTD_SECURITY_SECONDS, order.seq,
                                            order.order_id))

    def _release(self, order: Order, amount: Decimal) -> None:
        amount = min(amount, order.reserved)
        if amount <= 0:
            return
        order.reserved -= amount
        if order.side is Side.BUY:
            self._reserved_collateral[order.maker] -= amount
        else:
            self._reserved_shares[(order.maker, order.token_id)] -= amount

    def _unrest(self, order: Order) -> None:
        self._book(order.token_id).remove(order)
        self._live.get(order.user, {}).pop(order.order_id, None)
        self._release(order, order.reserved)

    def _cancel(self, order: Order) -> None:
        order.status = "CANCELED"
        self._unrest(order)

    def _expire_due(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            _, _, order_id = heapq.heappop(expiries)
            order = self.orders.get(order_id)
            if order is not None and order.status == "LIVE":
                self._cancel(order)

    def _book(self, token_id: str) -> Book:
        book = self.books.get(token_id)
        if book is None:
            book = self.books[token_id] = Book(token_id)
        return book


@lru_cache(maxsize=65536)
def checksummed(address: str) -> str:
    """EIP-55 form of an address; cached because hashing it costs more than a whole match."""
    return checksum(address)


def _complement(market: Market, token_id: str) -> str | None:
    """The other outcome of a binary market, whose orders mirror this token's book."""
    if len(market.outcomes) != 2:
        return None
    first, second = market.outcomes
    return second.token_id if first.token_id == token_id else first.token_id


def _quantize_price(price: Decimal, tick: Decimal) -> Decimal:
    """A price on the tick grid: a market order's implied price is rounded to the nearest tick."""
    return price.quantize(tick, ROUND_HALF_EVEN)


def _taker_amounts(taker: _Taker) -> tuple[Decimal, Decimal]:
    shares = sum((f.size for f in taker.fills), ZERO)
    collateral = sum((f.size * f.price for f in taker.fills), ZERO)
    collateral = collateral.quantize(SHARE_STEP, ROUND_DOWN) if collateral else ZERO
    if taker.order.side is Side.BUY:
        return collateral, shares
    return shares, collateral

