"""Fake Data API (`data-api.polymarket.com`): activity, trades, positions and value of a wallet.

Built only from matches the chain confirmed, because the real Data API is indexed from chain logs:
a fill shows up once its block is mined, with the block's time. Each on-chain `OrderFilled` whose
maker is the wallet is one TRADE row: one per resting order of theirs that was hit, and one for
their whole taker order (its size is the sum of the fills, its price the average). v1 routes answer
camelCase lists; v2 routes answer snake_case `{data, pagination}` with opaque cursors.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import resolution
from .context import Sim
from .core import UNITS, Market, Match, MatchStatus, Side, to_units
from .gamma import current_price, event_ids, event_slug

if TYPE_CHECKING:
    from .chain.events import Redemption

ACTIVITY_MAX_LIMIT = 500  # larger limits are silently cut to 500
ACTIVITY_MAX_OFFSET = 5000  # "max historical activity offset of 5000 exceeded" (measured 2026-09)
TRADES_MAX_LIMIT = 10_000
TRADES_MAX_OFFSET = 10_000
POSITIONS_MAX_LIMIT = 500
POSITIONS_MAX_OFFSET = 10_000
V2_MAX_LIMIT = 1000
V2_MAX_CONDITIONS = 20
ACTIVITY_TYPES = frozenset({
    "TRADE", "SPLIT", "MERGE", "REDEEM", "REWARD", "CONVERSION", "MIGRATION", "YIELD",
    "MAKER_REBATE", "TAKER_REBATE", "REFERRAL_REWARD", "DEPOSIT", "WITHDRAWAL", "TIP",
})
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_CONDITION = re.compile(r"^0x[0-9a-fA-F]{64}$")


def _units(amount: Decimal) -> Decimal:
    return Decimal(to_units(amount)) / UNITS


class BadParam(ValueError):
    """A query the real API refuses with 400; the message is the text it answers."""


# --- fills: one per on-chain OrderFilled ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Fill:
    party: str  # lowercase address whose order was filled
    taker: bool
    side: Side
    token_id: str
    condition_id: str
    price: Decimal
    size: Decimal
    usdc: Decimal
    fee: Decimal
    tx_hash: str
    timestamp: int
    # (block time, block, log index, sequence): the order the chain put the fills in
    key: tuple[int, int, int, int]
    kind: str = "TRADE"  # or REDEEM: a wallet's redemption, one row per transaction
    burned: tuple[tuple[str, Decimal], ...] = ()  # REDEEM: (token id, shares) burned


def _key(fill: Fill) -> tuple[int, int, int, int]:
    return fill.key


def _insert(rows: list[Fill], fill: Fill) -> None:
    # confirmations arrive in block order, so this is nearly always an append
    if not rows or rows[-1].key <= fill.key:
        rows.append(fill)
    else:
        bisect.insort(rows, fill, key=_key)


def _window_of(fills: list[Fill], start: int | None, end: int | None) -> list[Fill]:
    """The fills with start <= block time <= end (inclusive seconds), by bisection."""
    low = bisect.bisect_left(fills, (start,), key=_key) if start else 0
    high = bisect.bisect_left(fills, (end + 1,), key=_key) if end else len(fills)
    return fills[low:high]


def _pick(fills: list[Fill], keep: Callable[[Fill], bool], descending: bool, offset: int,
          limit: int) -> list[Fill]:
    """Rows offset..offset+limit of the kept fills in chain order, without filtering the rest."""
    ordered = reversed(fills) if descending else iter(fills)
    return list(itertools.islice((f for f in ordered if keep(f)), offset, offset + limit))


class FillIndex:
    """Every confirmed fill, kept sorted by chain order, per wallet and for the whole tape.

    Fed by the ledger's confirm listener, so a query never rescans the ledger: a wallet with tens
    of thousands of fills costs a bisect and a slice, not a rebuild.
    """

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._seq = itertools.count()
        self._by_user: dict[str, list[Fill]] = {}
        self._all: list[Fill] = []
        self._versions: dict[str, int] = {}
        sim.ledger.on_confirm(self.add)
        sim.redemption_listeners.append(self.add_redemption)
        for match in list(sim.ledger.matches):  # confirmed before this service started
            self.add(match)

    def add(self, match: Match) -> None:
        if match.status is not MatchStatus.CONFIRMED or match.tx_hash is None:
            return
        with self._lock:
            if match.match_id in self._seen:
                return
            self._seen.add(match.match_id)
            for fill in self._derive(match):
                _insert(self._by_user.setdefault(fill.party, []), fill)
                _insert(self._all, fill)
                self._versions[fill.party] = self._versions.get(fill.party, 0) + 1

    def add_redemption(self, redemption: Redemption) -> None:
        """A REDEEM row: shares burned (0 for the wrong-collateral trap) and the payout."""
        burned = tuple((str(token), Decimal(units) / UNITS)
                       for token, units in sorted(redemption.burned.items()))
        fill = Fill(
            party=redemption.user.lower(), taker=False, side=Side.SELL, token_id="",
            condition_id=redemption.condition_id, price=Decimal(0),
            size=sum((size for _, size in burned), Decimal(0)),
            # what the CTF paid out (pUSD through an adapter; USDC.e to an old-style direct call)
            usdc=Decimal(redemption.payout) / UNITS, fee=Decimal(0), tx_hash=redemption.tx_hash,
            timestamp=redemption.timestamp,
            key=(redemption.timestamp, redemption.block_number, redemption.log_index,
                 next(self._seq)),
            kind="REDEEM", burned=burned)
        with self._lock:
            _insert(self._by_user.setdefault(fill.party, []), fill)
            self._versions[fill.party] = self._versions.get(fill.party, 0) + 1

    def for_user(self, user: str) -> list[Fill]:
        """The user's fills, oldest first (a snapshot: safe to keep while more are confirmed)."""
        with self._lock:
            return list(self._by_user.get(user, ()))

    def everyone(self) -> list[Fill]:
        with self._lock:
            return list(self._all)

    def version(self, user: str) -> int:
        """Changes whenever the user gets a new fill (to cache what is derived from them)."""
        return self._versions.get(user, 0)

    def _condition(self, token_id: str, fallback: str) -> str:
        market = self.sim.markets.by_token(token_id)
        return market.condition_id if market else fallback

    def _derive(self, match: Match) -> tuple[Fill, ...]:
        seq = next(self._seq)
        timestamp = match.block_time if match.block_time is not None else int(match.match_time)
        block = match.block_number or 0
        logs = match.log_indexes

        def key(position: int) -> tuple[int, int, int, int]:
            log_index = logs[position] if position < len(logs) else position
            return (timestamp, block, log_index, seq)

        rows: list[Fill] = []
        taker_usdc = Decimal(0)
        for i, maker in enumerate(match.makers):
            # amounts as the chain logs carry them: 6-decimal units, truncated per fill
            usdc = _units(maker.price * maker.size)
            # a complement fill (a BUY of the other outcome minting the pair) costs the taker 1-p
            same_token = maker.token_id == match.token_id
            taker_usdc += usdc if same_token else _units(maker.size) - usdc
            rows.append(Fill(
                party=maker.maker.lower(), taker=False, side=maker.side, token_id=maker.token_id,
                condition_id=self._condition(maker.token_id, match.condition_id),
                price=maker.price, size=_units(maker.size), usdc=usdc, fee=maker.fee,
                tx_hash=match.tx_hash or "", timestamp=timestamp, key=key(i)))
        if match.makers:
            size = sum((_units(m.size) for m in match.makers), Decimal(0))
        else:
            size, taker_usdc = _units(match.size), _units(match.price * match.size)
        price = taker_usdc / size if size else match.price
        rows.append(Fill(
            party=match.taker.lower(), taker=True, side=match.side, token_id=match.token_id,
            condition_id=self._condition(match.token_id, match.condition_id), price=price,
            size=size, usdc=taker_usdc, fee=match.fee, tx_hash=match.tx_hash or "",
            timestamp=timestamp, key=key(len(match.makers))))
        return tuple(rows)


# --- positions: average-cost accounting over a wallet's fills -------------------------------------

@dataclass
class Position:
    token_id: str
    condition_id: str
    size: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)  # basis of the shares still held
    fees: Decimal = Decimal(0)
    total_bought: Decimal = Decimal(0)
    bought_cost: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)
    last_price: Decimal = Decimal(0)
    last_event_at: int = 0
    # filled by `value_positions`
    values: dict[str, Any] = field(default_factory=dict)

    def apply(self, fill: Fill) -> None:
        self.last_price = fill.price
        self.last_event_at = fill.timestamp
        if fill.side is Side.BUY:
            self.size += fill.size
            self.cost += fill.usdc
            self.total_bought += fill.size
            self.bought_cost += fill.usdc
            self.fees += fill.fee
            return
        self._close(fill.size, fill.price)

    def redeem(self, size: Decimal, payout: Decimal, timestamp: int) -> None:
        """Shares burned by a redemption, each paid `payout` (1 for the winner, 0 otherwise)."""
        self.last_price = payout
        self.last_event_at = timestamp
        self._close(size, payout)

    def _close(self, size: Decimal, price: Decimal) -> None:
        sold = min(size, self.size)  # shares from outside the ledger (splits) have no basis
        avg = self.cost / self.size if self.size else Decimal(0)
        self.realized += (price - avg) * sold
        self.cost -= avg * sold
        self.size -= sold


def _payout(sim: Sim | None, token_id: str) -> Decimal:
    """What one share of a resolved outcome pays (1 or 0)."""
    market = sim.markets.by_token(token_id) if sim is not None else None
    if market is None or market.payouts is None:
        return Decimal(0)
    return Decimal(market.payouts[market.outcome_index(token_id)])


def build_positions(fills: Iterable[Fill], sim: Sim | None = None) -> dict[str, Position]:
    positions: dict[str, Position] = {}
    for fill in fills:
        if fill.kind == "REDEEM":
            for token, size in fill.burned:
                if token in positions:
                    positions[token].redeem(size, _payout(sim, token), fill.timestamp)
            continue
        position = positions.get(fill.token_id)
        if position is None:
            position = positions[fill.token_id] = Position(fill.token_id, fill.condition_id)
        position.apply(fill)
    return positions


def _r(value: Decimal, places: int) -> float:
    return float(round(value, places))


def value_positions(sim: Sim, positions: dict[str, Position]) -> None:
    """Price every position and compute the numbers both API versions show."""
    for position in positions.values():
        market = sim.markets.by_token(position.token_id)
        # once the indexer caught up with a resolution the price is the payout (1 or 0)
        settled = market is not None and market.resolved and resolution.indexed(sim, market)
        price = current_price(sim, market, position.token_id) if market else None
        cur = price if price is not None else position.last_price
        if settled:
            cur = _payout(sim, position.token_id)
        avg = position.cost / position.size if position.size else (
            position.bought_cost / position.total_bought if position.total_bought else Decimal(0))
        initial = position.cost if position.size else Decimal(0)
        current = position.size * cur
        cash_pnl = current - initial
        opposite = _opposite(market, position.token_id)
        held_opposite = opposite is not None and positions.get(opposite[1]) is not None and \
            positions[opposite[1]].size > 0
        closed = bool(market and market.closed)  # no merging once the market has closed
        position.values = {
            "avg": avg, "initial": initial, "current": current, "cash_pnl": cash_pnl, "cur": cur,
            "percent_pnl": cash_pnl / initial * 100 if initial else Decimal(0),
            # what the real API prints: all profit so far over everything paid for the shares
            "percent_realized": (position.realized + cash_pnl) / position.bought_cost * 100
            if position.bought_cost else Decimal(0),
            "redeemable": settled,
            "mergeable": held_opposite and position.size > 0 and not closed,
            "market": market, "opposite": opposite,
        }


def _opposite(market: Market | None, token_id: str) -> tuple[str, str] | None:
    if market is None or len(market.outcomes) != 2:
        return None
    other = market.outcomes[1] if market.outcomes[0].token_id == token_id else market.outcomes[0]
    return other.name, other.token_id


# --- rendering ------------------------------------------------------------------------------------

_ADJECTIVES = ("Impolite", "Quiet", "Brave", "Lanky", "Frugal", "Hasty", "Mellow", "Witty",
               "Gentle", "Rapid", "Sleepy", "Clever", "Grumpy", "Jolly", "Nimble", "Proud")
_NOUNS = ("Sister", "Otter", "Falcon", "Ledger", "Harbor", "Comet", "Maple", "Badger",
          "Lantern", "Pilot", "Walrus", "Cactus", "Tiger", "Pebble", "Ranger", "Wizard")


def _pseudonym(address: str) -> str:
    value = int(address[2:], 16) if _ADDRESS.match(address) else 0
    return f"{_ADJECTIVES[value % 16]}-{_NOUNS[(value >> 4) % 16]}"


def _profile(sim: Sim, address: str) -> dict[str, str]:
    # optional names from a scenario (`sim.profiles`, lowercase address -> name) when present
    profiles = getattr(sim, "profiles", None) or {}
    name = profiles.get(address, "") if isinstance(profiles, dict) else ""
    return {"name": name, "pseudonym": _pseudonym(address), "bio": "", "profileImage": "",
            "profileImageOptimized": ""}


def _market_fields(market: Market | None, token_id: str) -> dict[str, Any]:
    if market is None:
        return {"title": "", "slug": "", "icon": "", "eventSlug": "", "outcome": "",
                "outcomeIndex": 999}
    index = market.outcome_index(token_id)
    return {"title": market.question, "slug": market.slug, "icon": "",
            "eventSlug": event_slug(market), "outcome": market.outcomes[index].name,
            "outcomeIndex": index}


def activity_row(sim: Sim, fill: Fill) -> dict[str, Any]:
    if fill.kind == "REDEEM":
        return redeem_row(sim, fill)
    info = _market_fields(sim.markets.by_token(fill.token_id), fill.token_id)
    return {
        "proxyWallet": fill.party, "timestamp": fill.timestamp, "conditionId": fill.condition_id,
        "type": "TRADE", "size": _r(fill.size, 6), "usdcSize": _r(fill.usdc, 6),
        "transactionHash": fill.tx_hash, "price": _r(fill.price, 10), "asset": fill.token_id,
        "side": fill.side.value, "outcomeIndex": info["outcomeIndex"], "title": info["title"],
        "slug": info["slug"], "icon": info["icon"], "eventSlug": info["eventSlug"],
        "outcome": info["outcome"], **_profile(sim, fill.party),
    }


def redeem_row(sim: Sim, fill: Fill) -> dict[str, Any]:
    """A redemption as /activity shows it: per condition, no asset, side or price."""
    market = sim.markets.by_condition(fill.condition_id)
    return {
        "proxyWallet": fill.party, "timestamp": fill.timestamp, "conditionId": fill.condition_id,
        "type": "REDEEM", "size": _r(fill.size, 6), "usdcSize": _r(fill.usdc, 6),
        "transactionHash": fill.tx_hash, "price": 0, "asset": "", "side": "",
        "outcomeIndex": 999, "title": market.question if market else "",
        "slug": market.slug if market else "", "icon": "",
        "eventSlug": event_slug(market) if market else "", "outcome": "",
        **_profile(sim, fill.party),
    }


def trade_row(sim: Sim, fill: Fill) -> dict[str, Any]:
    info = _market_fields(sim.markets.by_token(fill.token_id), fill.token_id)
    return {
        "proxyWallet": fill.party, "side": fill.side.value, "asset": fill.token_id,
        "conditionId": fill.condition_id, "size": _r(fill.size, 6), "price": _r(fill.price, 10),
        "timestamp": fill.timestamp, "title": info["title"], "slug": info["slug"],
        "icon": info["icon"], "eventSlug": info["eventSlug"], "outcome": info["outcome"],
        "outcomeIndex": info["outcomeIndex"], **_profile(sim, fill.party),
        "transactionHash": fill.tx_hash,
    }


def position_row(sim: Sim, user: str, position: Position, events: dict[str, int]) -> dict:
    v = position.values
    market: Market | None = v["market"]
    info = _market_fields(market, position.token_id)
    opposite = v["opposite"] or ("", "")
    return {
        "proxyWallet": user, "asset": position.token_id, "conditionId": position.condition_id,
        "size": _r(position.size, 4), "avgPrice": _r(v["avg"], 4),
        "initialValue": _r(v["initial"], 4),
        "grossInitialValue": _r(v["initial"] + position.fees, 6),
        "entryFeesUsdc": _r(position.fees, 6), "currentValue": _r(v["current"], 4),
        "cashPnl": _r(v["cash_pnl"], 4), "percentPnl": _r(v["percent_pnl"], 4),
        "totalBought": _r(position.total_bought, 4), "realizedPnl": _r(position.realized, 4),
        "percentRealizedPnl": _r(v["percent_realized"], 4), "curPrice": _r(v["cur"], 4),
        "redeemable": v["redeemable"], "mergeable": v["mergeable"], "title": info["title"],
        "slug": info["slug"], "icon": info["icon"],
        "eventId": str(events.get(info["eventSlug"], "")), "eventSlug": info["eventSlug"],
        "outcome": info["outcome"], "outcomeIndex": info["outcomeIndex"],
        "oppositeOutcome": opposite[0], "oppositeAsset": opposite[1],
        "endDate": market.end_date[:10] if market else "",
        "negativeRisk": bool(market and market.neg_risk),
    }


_SNAKE = {
    "proxyWallet": "proxy_wallet", "conditionId": "condition_id", "usdcSize": "usdc_size",
    "transactionHash": "transaction_hash", "asset": "token_id", "outcomeIndex": "outcome_index",
    "eventSlug": "event_slug", "profileImage": "profile_image",
    "profileImageOptimized": "profile_image_optimized",
}


def snake(row: dict[str, Any]) -> dict[str, Any]:
    return {_SNAKE.get(k, k): v for k, v in row.items()}


def position_row_v2(sim: Sim, user: str, position: Position, events: dict[str, int]) -> dict:
    v1 = position_row(sim, user, position, events)
    open_ = position.size > 0
    return {
        "proxy_wallet": user, "token_id": position.token_id,
        "condition_id": position.condition_id, "current_size": v1["size"],
        "avg_price": v1["avgPrice"], "entry_cost_usdc": v1["initialValue"],
        "entry_fees_usdc": v1["entryFeesUsdc"],
        "total_cost_usdc": _r(position.values["initial"] + position.fees, 6),
        "current_price": v1["curPrice"], "current_value": v1["currentValue"],
        "total_size": v1["totalBought"], "realized_pnl": v1["realizedPnl"],
        "unrealized_pnl": v1["cashPnl"],
        "total_pnl": _r(position.realized + position.values["cash_pnl"], 4),
        "percent_pnl": v1["percentPnl"], "percent_realized_pnl": v1["percentRealizedPnl"],
        "status": "OPEN" if open_ else "CLOSED", "redeemable": v1["redeemable"],
        "mergeable": v1["mergeable"], "negative_risk": v1["negativeRisk"], "archived": False,
        "title": v1["title"], "slug": v1["slug"], "icon": v1["icon"], "event_id": v1["eventId"],
        "event_slug": v1["eventSlug"], "outcome": v1["outcome"],
        "outcome_index": v1["outcomeIndex"], "opposite_outcome": v1["oppositeOutcome"],
        "opposite_token_id": v1["oppositeAsset"], "end_date": v1["endDate"],
        "last_event_at": position.last_event_at, "name": _profile(sim, user)["name"],
        "profile_image": "", "verified": False,
    }


# --- query parameters -----------------------------------------------------------------------------

class Params:
    """Typed access to a query string; every problem raises BadParam with the text to answer."""

    def __init__(self, request: web.Request, v2: bool = False) -> None:
        self.query = request.query
        self.v2 = v2

    def _bad(self, name: str, problem: str) -> BadParam:
        if self.v2:
            return BadParam(f"Failed to deserialize query string: {name}: {problem}")
        return BadParam(f"invalid '{name}' query param: {problem}")

    def raw(self, *names: str) -> str | None:
        for name in names:
            value = self.query.get(name)
            if value is not None and value != "":
                return value
        return None

    def user(self, required: bool) -> str | None:
        value = self.raw("user")
        if value is None:
            if not required:
                return None
            if self.v2:
                raise BadParam("Failed to deserialize query string: missing field `user`")
            raise BadParam("required query param 'user' not provided")
        if not _ADDRESS.match(value):
            raise self._bad("user", f"{value} is not a valid address")
        return value.lower()

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self._bad(name, "invalid digit found in string") from None
        if number < minimum:
            raise self._bad(name, f"must be >= {minimum}")
        return number

    def decimal(self, name: str, default: Decimal | None) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = Decimal(value)
        except ArithmeticError:
            raise self._bad(name, "invalid number") from None
        if not number.is_finite() or number < 0:
            raise self._bad(name, "must be a number >= 0")
        return number

    def boolean(self, name: str, default: bool | None) -> bool | None:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise self._bad(name, "provided string was not `true` or `false`")

    def choice(self, name: str, options: Iterable[str], default: str | None,
               *aliases: str) -> str | None:
        value = self.raw(name, *aliases)
        if value is None:
            return default
        upper = value.upper()
        if upper not in options:
            raise self._bad(name, f"unknown variant `{value}`")
        return upper

    def listing(self, *names: str) -> list[str]:
        values: list[str] = []
        for name in names:
            for raw in self.query.getall(name, []):
                values.extend(part.strip() for part in raw.split(",") if part.strip())
        return values

    def conditions(self, *names: str) -> set[str] | None:
        values = self.listing(*names)
        if not values:
            return None
        for value in values:
            if not _CONDITION.match(value):
                raise self._bad(names[0], f"invalid condition id {value}")
        if self.v2 and len(set(values)) > V2_MAX_CONDITIONS:
            raise self._bad(names[0], f"at most {V2_MAX_CONDITIONS} distinct values")
        return {v.lower() for v in values}

    def types(self, name: str) -> set[str] | None:
        values = [v.upper() for v in self.listing(name)]
        for value in values:
            if value not in ACTIVITY_TYPES:
                raise self._bad(name, f"unknown variant `{value}`")
        return set(values) or None


def _event_conditions(sim: Sim, params: Params, name: str) -> set[str] | None:
    """Condition ids of the events named by id (comma list), or None if not filtered."""
    wanted = params.listing(name)
    if not wanted:
        return None
    try:
        ids = {int(v) for v in wanted}
    except ValueError:
        raise params._bad(name, "invalid digit found in string") from None
    numbers = event_ids(sim)
    return {m.condition_id.lower() for m in sim.markets if numbers[event_slug(m)] in ids}


@dataclass
class FillFilter:
    """Per-row filters; the time window is cut beforehand by bisection (`_window_of`)."""

    conditions: set[str] | None = None
    events: set[str] | None = None  # condition ids of the wanted events
    side: str | None = None
    taker_only: bool = False
    min_size: Decimal | None = None
    min_cash: Decimal | None = None
    kinds: frozenset[str] | set[str] | None = frozenset({"TRADE"})  # activity types; None = all

    def keep(self, fill: Fill) -> bool:
        return (
            (self.kinds is None or fill.kind in self.kinds)
            and (self.conditions is None or fill.condition_id.lower() in self.conditions)
            and (self.events is None or fill.condition_id.lower() in self.events)
            and (self.side is None or (fill.kind == "TRADE" and fill.side.value == self.side))
            and (not self.taker_only or fill.taker)
            and (self.min_size is None or fill.size >= self.min_size)
            and (self.min_cash is None or fill.usdc >= self.min_cash)
        )


def _window(params: Params) -> tuple[int | None, int | None]:
    start = params.integer("start", 0) or None
    end = params.integer("end", 0) or None
    return start, end


# --- v2 envelope and cursors ----------------------------------------------------------------------

def _encode_cursor(kind: str, payload: dict[str, Any]) -> str:
    raw = json.dumps({"data": {"type": kind, "params": payload}, "sig": uuid.uuid4().hex})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        data = body["data"]
        if data["type"] != kind or not isinstance(data["params"], dict):
            raise ValueError
        return data["params"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadParam("invalid cursor") from None


def _envelope(rows: list[dict], limit: int, cursor: str | None) -> dict[str, Any]:
    return {"data": rows, "pagination": {"limit": limit, "offset": 0,
                                         "has_more": cursor is not None, "next_cursor": cursor}}


def _keyset_page(kind: str, params: Params, fills: list[Fill], keep: Callable[[Fill], bool],
                 descending: bool) -> tuple[list[Fill], int, str | None]:
    """One page of a (time, sequence) keyset walk; the cursor carries the size and the anchor."""
    cursor = params.raw("cursor")
    if cursor is not None:
        state = _decode_cursor(kind, cursor)
        try:
            limit, anchor, descending = int(state["l"]), tuple(state["k"]), bool(state["d"])
            if len(anchor) != 4 or not all(isinstance(part, int) for part in anchor):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise BadParam("invalid cursor") from None
        if descending:
            candidates: Iterable[Fill] = reversed(fills[:bisect.bisect_left(fills, anchor,
                                                                              key=_key)])
        else:
            candidates = fills[bisect.bisect_right(fills, anchor, key=_key):]
    else:
        limit = params.integer("limit", 100)
        if limit > V2_MAX_LIMIT:
            raise params._bad("limit", f"limit must be between 0 and {V2_MAX_LIMIT}")
        candidates = reversed(fills) if descending else fills
    taken = list(itertools.islice((f for f in candidates if keep(f)), limit + 1))
    page = taken[:limit]
    next_cursor = None
    if len(taken) > limit and page:
        next_cursor = _encode_cursor(kind, {"l": limit, "k": list(page[-1].key), "d": descending})
    return page, limit, next_cursor


# --- HTTP -----------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Any]


def _v1_error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


def _v2_error(message: str) -> web.Response:
    return web.json_response({"error": message, "code": "invalid_request", "retryable": False,
                              "trace_id": uuid.uuid4().hex}, status=400)


def _guard(handler: Handler, v2: bool) -> Handler:
    async def guarded(request: web.Request) -> web.Response:
        try:
            if v2 and "offset" in request.query:
                raise BadParam("Failed to deserialize query string: unknown field `offset`")
            return await handler(request)
        except BadParam as exc:
            return _v2_error(str(exc)) if v2 else _v1_error(str(exc))
    return guarded


_SORT_ACTIVITY: dict[str, Callable[[Fill], Any]] = {
    "TIMESTAMP": lambda f: f.key,
    "TOKENS": lambda f: (f.size, f.key),
    "CASH": lambda f: (f.usdc, f.key),
}
_SORT_POSITIONS: dict[str, Callable[[Position], Any]] = {
    "TOKENS": lambda p: p.size,
    "CURRENT": lambda p: p.values["current"],
    "INITIAL": lambda p: p.values["initial"],
    "CASHPNL": lambda p: p.values["cash_pnl"],
    "PERCENTPNL": lambda p: p.values["percent_pnl"],
    "TITLE": lambda p: p.values["market"].question if p.values["market"] else "",
    "RESOLVING": lambda p: p.values["market"].end_date if p.values["market"] else "",
    "PRICE": lambda p: p.values["cur"],
    "AVGPRICE": lambda p: p.values["avg"],
    "REALIZEDPNL": lambda p: p.realized,
}
_SORT_POSITIONS_V2 = {
    "CURRENT_VALUE": "CURRENT", "INITIAL_VALUE": "INITIAL", "TOKENS": "TOKENS",
    "CASH_PNL": "CASHPNL", "PERCENT_PNL": "PERCENTPNL", "TITLE": "TITLE",
    "RESOLVING": "RESOLVING", "PRICE": "PRICE", "AVG_PRICE": "AVGPRICE",
    "REALIZED_PNL": "REALIZEDPNL",
}
_POSITION_STATUSES = ("OPEN", "CLOSED", "REDEEMABLE", "REDEEMABLE_LOST", "MERGEABLE")


class DataApp:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.fills = FillIndex(sim)
        # accounting per wallet, rebuilt only when the wallet has a new fill
        self._position_cache: dict[str, tuple[int, dict[str, Position]]] = {}

    def _source(self, user: str | None) -> list[Fill]:
        return self.fills.for_user(user) if user else self.fills.everyone()

    # v1 -------------------------------------------------------------------------------------

    async def activity(self, request: web.Request) -> web.Response:
        params = Params(request)
        user = params.user(required=True)
        limit = min(params.integer("limit", 100), ACTIVITY_MAX_LIMIT)
        offset = params.integer("offset", 0)
        if offset > ACTIVITY_MAX_OFFSET:
            raise BadParam(f"max historical activity offset of {ACTIVITY_MAX_OFFSET} exceeded")
        types = params.types("type")
        sort_by = params.choice("sortBy", _SORT_ACTIVITY, "TIMESTAMP")
        direction = params.choice("sortDirection", ("ASC", "DESC"), "DESC")
        start, end = _window(params)
        wanted = FillFilter(
            conditions=params.conditions("market"),
            events=_event_conditions(self.sim, params, "eventId"),
            side=params.choice("side", ("BUY", "SELL"), None), kinds=types)
        window = _window_of(self._source(user), start, end)
        descending = direction == "DESC"
        if sort_by == "TIMESTAMP":
            rows = _pick(window, wanted.keep, descending, offset, limit)
        else:
            rows = sorted((f for f in window if wanted.keep(f)),
                          key=_SORT_ACTIVITY[sort_by or "TIMESTAMP"], reverse=descending)
            rows = rows[offset:offset + limit]
        return web.json_response([activity_row(self.sim, f) for f in rows])

    async def trades(self, request: web.Request) -> web.Response:
        params = Params(request)
        user = params.user(required=False)
        limit = min(params.integer("limit", 100), TRADES_MAX_LIMIT)
        offset = params.integer("offset", 0)
        if offset > TRADES_MAX_OFFSET:
            raise BadParam(f"max historical trades offset of {TRADES_MAX_OFFSET} exceeded")
        markets = params.conditions("market")
        events = _event_conditions(self.sim, params, "eventId")
        if markets is not None and events is not None:
            raise BadParam("market and eventId are mutually exclusive")
        filter_type = params.choice("filterType", ("CASH", "TOKENS"), None)
        filter_amount = params.decimal("filterAmount", None)
        if (filter_type is None) != (filter_amount is None):
            raise BadParam("filterType and filterAmount must be provided together")
        start, end = _window(params)
        wanted = FillFilter(
            conditions=markets, events=events,
            side=params.choice("side", ("BUY", "SELL"), None),
            taker_only=bool(params.boolean("takerOnly", True)),
            min_size=filter_amount if filter_type == "TOKENS" else None,
            min_cash=filter_amount if filter_type == "CASH" else None)
        rows = _pick(_window_of(self._source(user), start, end), wanted.keep, True, offset, limit)
        return web.json_response([trade_row(self.sim, f) for f in rows])

    def _positions(self, user: str, conditions: set[str] | None) -> list[Position]:
        version = self.fills.version(user)
        cached = self._position_cache.get(user)
        if cached is None or cached[0] != version:
            cached = self._position_cache[user] = (version,
                                                   build_positions(self.fills.for_user(user),
                                                                   self.sim))
        positions = cached[1]
        value_positions(self.sim, positions)  # prices move without fills: re-priced every time
        return [p for p in positions.values()
                if conditions is None or p.condition_id.lower() in conditions]

    async def positions(self, request: web.Request) -> web.Response:
        params = Params(request)
        user = params.user(required=True)
        assert user is not None
        markets = params.conditions("market")
        events = _event_conditions(self.sim, params, "eventId")
        if markets is not None and events is not None:
            raise BadParam("market and eventId are mutually exclusive")
        threshold = params.decimal("sizeThreshold", Decimal(1))
        redeemable = params.boolean("redeemable", None)
        mergeable = params.boolean("mergeable", None)
        title = (params.raw("title") or "").lower()
        if len(title) > 100:
            raise BadParam("invalid 'title' query param: maximum length is 100")
        limit = min(params.integer("limit", 100), POSITIONS_MAX_LIMIT)
        offset = params.integer("offset", 0)
        if offset > POSITIONS_MAX_OFFSET:
            raise BadParam(f"invalid 'offset' query param: must be <= {POSITIONS_MAX_OFFSET}")
        sort_by = params.choice("sortBy", _SORT_POSITIONS, "TOKENS") or "TOKENS"
        direction = params.choice("sortDirection", ("ASC", "DESC"), "DESC")
        rows = [
            p for p in self._positions(user, markets if markets is not None else events)
            if p.size > 0 and p.size >= (threshold or 0)
            and (not redeemable or p.values["redeemable"])
            and (not mergeable or p.values["mergeable"])
            and (not title or title in (p.values["market"].question.lower()
                                        if p.values["market"] else ""))
        ]
        rows.sort(key=_SORT_POSITIONS[sort_by], reverse=direction == "DESC")
        events_by_slug = event_ids(self.sim)
        return web.json_response([position_row(self.sim, user, p, events_by_slug)
                                  for p in rows[offset:offset + limit]])

    async def value(self, request: web.Request) -> web.Response:
        params = Params(request)
        user = params.user(required=True)
        assert user is not None
        total = sum((p.values["current"] for p in self._positions(user, params.conditions("market"))
                     if p.size > 0), Decimal(0))
        return web.json_response([{"user": user, "value": _r(total, 6)}])

    # v2 -------------------------------------------------------------------------------------

    async def activity_v2(self, request: web.Request) -> web.Response:
        params = Params(request, v2=True)
        user = params.user(required=True)
        types = params.types("type")
        direction = params.choice("sort_direction", ("ASC", "DESC"), "DESC", "sortDirection")
        sort_by = params.choice("sort_by", ("TIMESTAMP", "CASH", "TOKENS"), "TIMESTAMP", "sortBy")
        if sort_by != "TIMESTAMP":
            raise BadParam(f"sort_by={sort_by} has no keyset anchor; only TIMESTAMP can be paged")
        start, end = _window(params)
        wanted = FillFilter(
            conditions=params.conditions("condition", "condition_id", "conditionId"),
            events=_event_conditions(self.sim, params, "event_id"),
            side=params.choice("side", ("BUY", "SELL"), None), kinds=types)
        fills = _window_of(self._source(user), start, end)
        page, limit, cursor = _keyset_page("activity", params, fills, wanted.keep,
                                           direction == "DESC")
        rows = [snake(activity_row(self.sim, f)) for f in page]
        return web.json_response(_envelope(rows, limit, cursor))

    async def trades_v2(self, request: web.Request) -> web.Response:
        params = Params(request, v2=True)
        user = params.user(required=False)
        filter_type = params.choice("filter_type", ("CASH", "TOKENS"), "TOKENS", "filterType")
        amount = params.decimal("filter_amount", Decimal("0.01")) or Decimal("0.01")
        start, end = _window(params) if user else (None, None)
        markets = params.conditions("condition", "condition_id", "conditionId")
        events = _event_conditions(self.sim, params, "event_id")
        wanted = FillFilter(
            conditions=markets, events=events,
            side=params.choice("side", ("BUY", "SELL"), None),
            taker_only=bool(params.boolean("taker_only", True)),
            min_size=amount if filter_type == "TOKENS" else None,
            min_cash=amount if filter_type == "CASH" else None)
        fills = _window_of(self._source(user), start, end)
        page, limit, cursor = _keyset_page("trades", params, fills, wanted.keep, descending=True)
        rows = [snake(trade_row(self.sim, f)) for f in page]
        return web.json_response(_envelope(rows, limit, cursor))

    async def positions_v2(self, request: web.Request) -> web.Response:
        params = Params(request, v2=True)
        user = params.user(required=True)
        assert user is not None
        status = params.choice("status", _POSITION_STATUSES, "OPEN") or "OPEN"
        default_sort = "REALIZED_PNL" if status == "CLOSED" else "CURRENT_VALUE"
        sort_by = params.choice("sort_by", _SORT_POSITIONS_V2, default_sort, "sortBy")
        direction = params.choice("sort_direction", ("ASC", "DESC"), "DESC", "sortDirection")
        cursor = params.raw("cursor")
        if cursor is not None:
            state = _decode_cursor("positions", cursor)
            try:
                limit, offset = int(state["l"]), int(state["o"])
            except (KeyError, TypeError, ValueError):
                raise BadParam("invalid cursor") from None
        else:
            limit, offset = params.integer("limit", 100), 0
            if limit > V2_MAX_LIMIT:
                raise params._bad("limit", f"limit must be between 0 and {V2_MAX_LIMIT}")
        conditions = params.conditions("condition", "condition_id", "conditionId")
        chosen = [p for p in self._positions(user, conditions)
                  if _position_status_matches(p, status)]
        chosen.sort(key=_SORT_POSITIONS[_SORT_POSITIONS_V2[sort_by or default_sort]],
                    reverse=direction == "DESC")
        page = chosen[offset:offset + limit]
        next_cursor = None
        if offset + limit < len(chosen) and page:
            next_cursor = _encode_cursor("positions", {"l": limit, "o": offset + limit})
        events_by_slug = event_ids(self.sim)
        rows = [position_row_v2(self.sim, user, p, events_by_slug) for p in page]
        return web.json_response(_envelope(rows, limit, next_cursor))


def _position_status_matches(position: Position, status: str) -> bool:
    if status == "CLOSED":  # sold out; a sale of shares from outside the ledger is not a position
        return position.size <= 0 and position.total_bought > 0
    if position.size <= 0:
        return False
    if status in ("REDEEMABLE", "REDEEMABLE_LOST"):
        return bool(position.values["redeemable"])
    if status == "MERGEABLE":
        return bool(position.values["mergeable"])
    return True


def build_app(sim: Sim) -> web.Application:
    data = DataApp(sim)
    app = web.Application()
    routes = [
        ("/activity", data.activity, False), ("/trades", data.trades, False),
        ("/positions", data.positions, False), ("/value", data.value, False),
        ("/v2/activity", data.activity_v2, True), ("/v2/trades", data.trades_v2, True),
        ("/v2/positions", data.positions_v2, True),
    ]
    for path, handler, v2 in routes:
        app.router.add_get(path, _guard(handler, v2))
    app.router.add_get("/", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"data": "OK"})
