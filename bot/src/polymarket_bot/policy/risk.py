"""Risk gates on new buys, in the order `decide` runs them.

Exits do not pass through here: selling reduces risk, so a pause or the daily-loss halt must not
trap us in a position the target is leaving.
"""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.models import MarketInfo
from polymarket_bot.policy import reasons
from polymarket_bot.policy.context import PolicyContext
from polymarket_bot.policy.limits import EffectiveRule, Limits
from polymarket_bot.policy.reasons import Skip
from polymarket_bot.policy.sizing import below_minimum, floor_shares

HOUR_S = 3600


def paused(ctx: PolicyContext) -> Skip | None:
    if ctx.paused:
        return Skip(reasons.PAUSED, "copying is paused: no new buys (exits continue)")
    return None


def close_only(ctx: PolicyContext) -> Skip | None:
    if ctx.close_only:
        return Skip(reasons.CLOSE_ONLY, "this host's region is close-only (Polymarket geoblock): "
                    "exits only, no new buys")
    return None


def daily_loss(ctx: PolicyContext, limits: Limits) -> Skip | None:
    """Once today's P&L has touched -MAX_DAILY_LOSS, buys stay halted until the UTC day ends."""
    low = ctx.daily_pnl_usdc
    if ctx.daily_pnl_low_usdc is not None:
        low = min(low, ctx.daily_pnl_low_usdc)
    if low <= -limits.max_daily_loss_usdc:
        seen = "" if low == ctx.daily_pnl_usdc else f" (low today {low} USDC)"
        return Skip(reasons.DAILY_LOSS,
                    f"today's P&L {ctx.daily_pnl_usdc} USDC{seen} reached the loss limit "
                    f"-{limits.max_daily_loss_usdc} USDC: buys halted until 00:00 UTC")
    return None


def trade_frequency(ctx: PolicyContext, limits: Limits) -> Skip | None:
    if ctx.trades_last_hour >= limits.max_trades_per_hour:
        return Skip(reasons.TRADE_FREQUENCY,
                    f"{ctx.trades_last_hour} copies in the last hour, "
                    f"limit {limits.max_trades_per_hour}")
    return None


def min_interval(ctx: PolicyContext, rule: EffectiveRule) -> Skip | None:
    if ctx.last_trade_at is None:
        return None
    since = ctx.now - ctx.last_trade_at
    if since < rule.min_trade_interval_s:
        return Skip(reasons.MIN_INTERVAL,
                    f"last copy of this wallet in this market {since:.0f} s ago "
                    f"< {rule.min_trade_interval_s:g} s")
    return None


def open_positions(ctx: PolicyContext, limits: Limits) -> Skip | None:
    """Only a buy that would open a new position counts; adding to one we hold is fine."""
    is_new = ctx.position is None or ctx.position.size <= 0
    limit = limits.max_open_positions
    if is_new and limit is not None and ctx.open_positions >= limit:
        return Skip(reasons.MAX_OPEN_POSITIONS,
                    f"{ctx.open_positions} open positions, limit {limit}")
    return None


def fit_position(shares: Decimal, price: Decimal, market: MarketInfo, ctx: PolicyContext,
                 rule: EffectiveRule) -> Decimal | Skip:
    """The shares that fit under the per-market cap: shrunk to the room left, or a skip."""
    room = rule.max_position_usdc - ctx.market_exposure_usdc
    if shares * price <= room:
        return shares
    numbers = (f"exposure {ctx.market_exposure_usdc} USDC + {shares} x {price} "
               f"> cap {rule.max_position_usdc} USDC")
    if room <= 0:
        return Skip(reasons.MAX_POSITION, f"{numbers}, no room left")
    fitted = floor_shares(room / price)
    too_small = below_minimum(fitted, price, market)
    if too_small is not None:
        return Skip(reasons.MAX_POSITION, f"{numbers}; the {room} USDC left: {too_small}")
    return fitted


def balance(shares: Decimal, price: Decimal, ctx: PolicyContext) -> Skip | None:
    """An order our known balance cannot pay would only bounce off the exchange."""
    notional = shares * price
    if ctx.collateral_usdc is not None and notional > ctx.collateral_usdc:
        return Skip(reasons.NO_BALANCE,
                    f"order {shares} x {price} = {notional} USDC > balance "
                    f"{ctx.collateral_usdc} USDC")
    return None
