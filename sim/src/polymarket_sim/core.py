"""The simulated exchange's shared facts: markets, balances and the match ledger.

Every service reads from here so that one fill looks the same everywhere: the CLOB engine records
a `Match`, the chain mines it into `OrderFilled` logs, and the Data API shows it once it is mined
(the real Data API is indexed from the chain, so activity appears only after the block).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from eth_utils import to_checksum_address

UNITS = Decimal(1_000_000)  # pUSD and outcome shares both have 6 decimals on-chain


def to_units(amount: Decimal) -> int:
    """A decimal amount of pUSD or shares in base units (6 decimals), truncated."""
    return int((amount * UNITS).to_integral_value(rounding="ROUND_DOWN"))


def checksum(address: str) -> str:
    return to_checksum_address(address)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def chain_value(self) -> int:
        """`side` as the exchange contract encodes it: 0 = the order's maker buys the token."""
        return 0 if self is Side.BUY else 1


class MatchStatus(StrEnum):
    MATCHED = "MATCHED"
    MINED = "MINED"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Outcome:
    name: str
    token_id: str  # decimal string of a uint256, as the real CLOB uses


@dataclass
class Market:
    condition_id: str
    question: str
    slug: str
    outcomes: list[Outcome]
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal(5)
    neg_risk: bool = False
    event_slug: str = ""
    end_date: str = "2027-01-01T00:00:00Z"
    active: bool = True
    closed: bool = False
    last_trade_price: dict[str, Decimal] = field(default_factory=dict)
    # set when the market resolves: payout per outcome (1 for the winner, 0 otherwise)
    payouts: list[int] | None = None
    resolved_at: float | None = None

    @property
    def resolved(self) -> bool:
        return self.payouts is not None

    def outcome_index(self, token_id: str) -> int:
        for index, outcome in enumerate(self.outcomes):
            if outcome.token_id == token_id:
                return index
        raise KeyError(token_id)


class Markets:
    """All simulated markets, looked up by condition id or by outcome token id."""

    def __init__(self) -> None:
        self._by_condition: dict[str, Market] = {}
        self._by_token: dict[str, Market] = {}

    def add(self, market: Market) -> None:
        self._by_condition[market.condition_id] = market
        for outcome in market.outcomes:
            self._by_token[outcome.token_id] = market

    def __iter__(self):
        return iter(self._by_condition.values())

    def by_condition(self, condition_id: str) -> Market | None:
        return self._by_condition.get(condition_id)

    def by_token(self, token_id: str) -> Market | None:
        return self._by_token.get(str(token_id))


@dataclass
class MakerFill:
    """One resting order's part of a match."""

    order_id: str  # the order hash, 0x-prefixed
    maker: str  # funder address of the resting order
    owner: str  # API key of the resting order's owner ("" for scripted liquidity)
    side: Side  # the resting order's side
    token_id: str  # the resting order's token (the other outcome's on a complement match)
    price: Decimal
    size: Decimal  # shares
    fee: Decimal = Decimal(0)


@dataclass
class Match:
    """One taker order against resting orders: one CLOB trade, one set of on-chain logs."""

    match_id: str
    taker_order_id: str
    taker: str  # funder address of the taker order
    taker_owner: str  # API key of the taker ("" for scripted traders)
    side: Side  # the taker's side
    condition_id: str
    token_id: str
    price: Decimal  # average price the taker got
    size: Decimal  # total shares
    makers: list[MakerFill]
    match_time: float = field(default_factory=time.time)
    fee: Decimal = Decimal(0)
    status: MatchStatus = MatchStatus.MATCHED
    tx_hash: str | None = None
    block_number: int | None = None
    block_time: int | None = None
    confirmed_at: float | None = None  # wall clock when mined: "visible at the source" in benches
    # log index of each on-chain OrderFilled: the makers' in order, then the taker's
    log_indexes: list[int] = field(default_factory=list)

    @property
    def usdc_size(self) -> Decimal:
        return sum((m.price * m.size for m in self.makers), Decimal(0))


MatchListener = Callable[[Match], None]


def new_id(prefix: str = "0x", nbytes: int = 32) -> str:
    return prefix + secrets.token_hex(nbytes)


class Ledger:
    """Append-only list of matches with listeners; the chain marks matches mined/confirmed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.matches: list[Match] = []
        self._by_id: dict[str, Match] = {}
        self._by_address: dict[str, list[Match]] = defaultdict(list)
        self._on_record: list[MatchListener] = []
        self._on_confirm: list[MatchListener] = []
        self._seq = itertools.count(1)

    def on_record(self, listener: MatchListener) -> None:
        self._on_record.append(listener)

    def on_confirm(self, listener: MatchListener) -> None:
        self._on_confirm.append(listener)

    def record(self, match: Match) -> None:
        with self._lock:
            self.matches.append(match)
            self._by_id[match.match_id] = match
            parties = {match.taker.lower()} | {m.maker.lower() for m in match.makers}
            for address in parties:
                self._by_address[address].append(match)
        for listener in self._on_record:
            listener(match)

    def confirm(self, match: Match, tx_hash: str, block_number: int, block_time: int,
                log_indexes: list[int]) -> None:
        match.tx_hash = tx_hash
        match.block_number = block_number
        match.block_time = block_time
        match.log_indexes = log_indexes
        match.status = MatchStatus.CONFIRMED
        match.confirmed_at = time.time()
        for listener in self._on_confirm:
            listener(match)

    def get(self, match_id: str) -> Match | None:
        return self._by_id.get(match_id)

    def for_address(self, address: str) -> list[Match]:
        """Matches the address took part in, as taker or maker, oldest first."""
        with self._lock:
            return list(self._by_address.get(address.lower(), ()))

    def confirmed(self) -> Iterable[Match]:
        return (m for m in self.matches if m.status is MatchStatus.CONFIRMED)


@dataclass
class Account:
    collateral: Decimal = Decimal(0)  # pUSD
    # allowance the exchange may spend; the real one is an ERC-20 approve, usually "infinite"
    allowance: Decimal = Decimal(0)
    shares: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    # shares the account allowed the exchange to move (ERC-1155 setApprovalForAll)
    shares_approved: bool = True
    # what the wallet's own on-chain approvals say, per spender (lowercase), once it sent any;
    # they override the two defaults above for that exchange
    allowances: dict[str, Decimal] = field(default_factory=dict)
    operators: dict[str, bool] = field(default_factory=dict)

    def allowance_for(self, spender: str) -> Decimal:
        return self.allowances.get(spender.lower(), self.allowance)

    def operator_approved(self, operator: str) -> bool:
        return self.operators.get(operator.lower(), self.shares_approved)


class Accounts:
    """Balances and allowances by funder address (case-insensitive)."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}

    def get(self, address: str) -> Account:
        key = address.lower()
        if key not in self._accounts:
            self._accounts[key] = Account()
        return self._accounts[key]

    def fund(self, address: str, collateral: Decimal, allowance: Decimal | None = None) -> Account:
        account = self.get(address)
        account.collateral += collateral
        account.allowance = account.allowance + collateral if allowance is None else allowance
        return account

    def items(self) -> Iterable[tuple[str, Account]]:
        return self._accounts.items()
