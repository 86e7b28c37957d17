"""The machine-readable reasons a decision gives: stable strings the journal and alerts key on.

Renaming one breaks queries over past journals, so add new reasons rather than change old ones.
"""

from __future__ import annotations

from dataclasses import dataclass

COPIED = "copied"

# Safety switches (checked first, for both sides).
KILL_SWITCH = "kill_switch"
CIRCUIT_OPEN = "circuit_open"
UNKNOWN_WALLET = "unknown_wallet"
WALLET_DISABLED = "wallet_disabled"

# Filters on the fill and its market (both sides).
UNKNOWN_MARKET = "unknown_market"
MARKET_CLOSED = "market_closed"
TOO_OLD = "too_old"
PRICE_BAND = "price_band"
MARKET_DENIED = "market_denied"
MARKET_NOT_ALLOWED = "market_not_allowed"
SOURCE_TOO_SMALL = "source_too_small"
CONFIDENCE_UNKNOWN = "confidence_unknown"
LOW_CONFIDENCE = "low_confidence"

# Risk gates on new buys.
PAUSED = "paused"
CLOSE_ONLY = "close_only"
DAILY_LOSS = "daily_loss"
TRADE_FREQUENCY = "trade_frequency"
MIN_INTERVAL = "min_interval"
MAX_OPEN_POSITIONS = "max_open_positions"
MAX_POSITION = "max_position"
NO_BALANCE = "no_balance"

# Sizing and pricing (both sides).
NO_VALID_PRICE = "no_valid_price"
BELOW_MIN_SIZE = "below_min_size"
NOTHING_TO_EXIT = "nothing_to_exit"
HOLD_TO_RESOLUTION = "hold_to_resolution"  # the wallet's exit_policy is "hold"

SKIP_REASONS = frozenset({
    KILL_SWITCH, CIRCUIT_OPEN, UNKNOWN_WALLET, WALLET_DISABLED, UNKNOWN_MARKET, MARKET_CLOSED,
    TOO_OLD, PRICE_BAND, MARKET_DENIED, MARKET_NOT_ALLOWED, SOURCE_TOO_SMALL, CONFIDENCE_UNKNOWN,
    LOW_CONFIDENCE, PAUSED, DAILY_LOSS, TRADE_FREQUENCY, MIN_INTERVAL, MAX_OPEN_POSITIONS,
    MAX_POSITION, NO_BALANCE, NO_VALID_PRICE, BELOW_MIN_SIZE, NOTHING_TO_EXIT,
    HOLD_TO_RESOLUTION, CLOSE_ONLY,
})


@dataclass(frozen=True)
class Skip:
    """Why a fill is not copied: a reason from this module and a detail with the numbers."""

    reason: str
    detail: str
