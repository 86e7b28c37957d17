"""The facts that flow through the pipeline: config → sources → policy → execution → state.

Every stage speaks these types, so a fill from the Data API and the same fill from the chain are
one `TargetFill` with one `key`, and a decision, an intent and an order result can be journaled
and compared without re-parsing anything.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

UNITS = Decimal(1_000_000)  # pUSD and outcome shares have 6 decimals on-chain


def to_units(amount: Decimal) -> int:
    """A decimal amount in 6-decimal base units, exact to the unit (the chain's own precision)."""
    return int((amount * UNITS).to_integral_value(rounding="ROUND_HALF_EVEN"))


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def fill_key(tx_hash: str, wallet: str, token_id: str, side: Side, shares_units: int,
             usdc_units: int, occurrence: int = 0) -> str:
    """The identity of one target fill, the same whichever source saw it.

    A transaction can carry several fills (one per maker order matched), so the transaction hash
    alone is not a key. Both the chain log and the Data API record give the wallet, token, side and
    exact amounts; `occurrence` separates identical fills in one transaction.
    """
    raw = "|".join((tx_hash.lower(), wallet.lower(), str(token_id), side.value,
                    str(shares_units), str(usdc_units), str(occurrence)))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class TargetFill(Frozen):
    """A fill of a watched wallet, as a source reported it."""

    key: str
    wallet: str  # checksummed target (proxy wallet) address
    source: Literal["data_api", "chain"]
    tx_hash: str
    log_index: int | None = None  # chain only
    block_number: int | None = None  # chain only
    timestamp: float  # unix seconds of the fill (block time)
    token_id: str
    condition_id: str | None = None  # the chain does not say; policy resolves it from the token
    outcome: str | None = None
    side: Side
    size: Decimal = Field(gt=0)  # shares
    price: Decimal = Field(gt=0, lt=1)
    usdc_size: Decimal = Field(ge=0)
    detected_at: float  # unix seconds when our source saw it (for latency)


class MarketInfo(Frozen):
    """What placing an order in one outcome token needs to know."""

    token_id: str
    condition_id: str
    outcome: str
    outcome_index: int
    slug: str = ""
    question: str = ""
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool = False
    active: bool = True
    closed: bool = False


class Action(StrEnum):
    COPY = "copy"
    SKIP = "skip"


class Decision(Frozen):
    """What policy made of one target fill: copy it with this order, or skip it and why."""

    fill_key: str
    wallet: str
    token_id: str
    condition_id: str | None
    action: Action
    reason: str  # machine-readable: "copied", "price_band", "max_position", ...
    detail: str = ""  # human-readable explanation with the numbers
    side: Side
    size: Decimal = Decimal(0)  # our order's shares (0 when skipped)
    limit_price: Decimal | None = None
    decided_at: float


class IntentStatus(StrEnum):
    PENDING = "pending"  # committed, not yet signed
    SIGNED = "signed"  # signed; order id known; maybe posted (a crash here needs reconciling)
    POSTED = "posted"  # the exchange accepted it (live or matched)
    DONE = "done"  # final: filled, partially filled and killed, or cancelled
    FAILED = "failed"  # final: rejected or abandoned; nothing filled


class OrderIntent(Frozen):
    """An order we decided to send. Committed before it is posted, so a crash cannot double it."""

    id: str
    fill_key: str
    wallet: str
    token_id: str
    condition_id: str
    side: Side
    size: Decimal  # shares
    limit_price: Decimal
    order_type: Literal["FAK", "FOK", "GTC", "GTD"] = "FAK"
    expires_at: float | None = None  # GTC/GTD with TTL: cancel after this
    status: IntentStatus = IntentStatus.PENDING
    order_id: str | None = None  # the signed order's hash: the same before and after a restart
    created_at: float
    error: str | None = None


class OrderResult(Frozen):
    """What the exchange said about an order (or what it says now, when reconciling)."""

    order_id: str
    status: Literal["matched", "live", "unmatched", "delayed", "canceled", "rejected",
                    "not_found"]
    filled_size: Decimal = Decimal(0)  # shares filled so far
    avg_price: Decimal | None = None
    error: str | None = None
    retryable: bool = False  # a 429/5xx/timeout: the same signed order may be posted again


class BookLevel(Frozen):
    price: Decimal
    size: Decimal


class Book(Frozen):
    """An order book, best level FIRST (the CLOB's wire order is best-last)."""

    token_id: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    tick_size: Decimal
    min_order_size: Decimal
    neg_risk: bool = False

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None


class Position(Frozen):
    """Our holding in one outcome token."""

    token_id: str
    condition_id: str
    size: Decimal  # shares held
    cost: Decimal  # pUSD paid for the shares held (average cost basis)
    realized_pnl: Decimal = Decimal(0)
    mark_price: Decimal | None = None
