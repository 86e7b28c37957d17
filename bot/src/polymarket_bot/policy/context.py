"""The read-only snapshot of our own state that policy decides against.

The engine builds one per target fill from the store, so `decide` needs no I/O and the same
snapshot always gives the same decision (which is what makes the journal replayable).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from polymarket_bot.models import MarketInfo, Position

ZERO = Decimal(0)


@dataclass(frozen=True)
class PolicyContext:
    """Our state as seen by one decision. Money is pUSD (USDC), sizes are shares.

    Anything policy needs but the engine does not know must be None, never a guess: policy skips
    on doubt (an unknown market, balance or confidence) instead of trading on a default.
    """

    now: float  # unix seconds; the decision's clock (fill age, intervals)
    market: MarketInfo | None = None  # the fill's token, resolved; None = unknown → skip
    position: Position | None = None  # our holding in this token
    # Our cost basis in this condition (all its outcome tokens), including pending buy intents,
    # so two quick fills cannot both squeeze under MAX_POSITION_SIZE.
    market_exposure_usdc: Decimal = ZERO
    open_positions: int = 0  # tokens we hold a non-zero size of (plus pending buys in new tokens)
    trades_last_hour: int = 0  # our copies (buys and sells, all wallets) in the last 3600 s
    last_trade_at: float | None = None  # our last copy for this (wallet, condition)
    daily_pnl_usdc: Decimal = ZERO  # realized + marked P&L of the UTC day; negative = loss
    # The lowest daily_pnl_usdc seen so far this UTC day. Reaching the loss limit halts buys for
    # the rest of the day, so a price bounce back above the limit must not re-enable them.
    daily_pnl_low_usdc: Decimal | None = None
    # Shares of this token we hold because we copied this wallet, minus what we already sold
    # (or have pending to sell) on its exits.
    copied_shares: Decimal = ZERO
    target_held_before: Decimal | None = None  # the target's holding of this token before the fill
    # Our spendable balance. None = unknown: balance_pct sizing skips; fixed and proportional
    # copies go ahead and leave the balance check to the exchange.
    collateral_usdc: Decimal | None = None
    confidence: float | None = None  # derived score, used when the wallet has none configured
    paused: bool = False  # operator pause: no new buys, exits continue
    close_only: bool = False  # Polymarket's geoblock: this host may only reduce positions
    kill_switch: bool = False  # kill-switch file present: nothing at all
    circuit_open: bool = False  # too many consecutive execution errors: nothing at all
