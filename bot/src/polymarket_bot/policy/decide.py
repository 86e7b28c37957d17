"""`decide`: one target fill + our state + the limits → copy it with this order, or skip and why.

Pure and deterministic: no I/O, no clock (the time is `ctx.now`), so the engine can journal the
inputs and replay a decision. The checks run in this fixed order and the first failing one names
the skip:

1. kill switch → circuit breaker → wallet unknown/disabled          (safety: nothing at all)
2. market unknown/closed → fill too old                              (filters: both sides)
3. BUY:  price band → market deny/allow lists → target fill too small → confidence
         → paused → close-only region → daily loss → trade frequency
         → min interval (wallet, condition) → max open positions → limit price and size
         → max position (shrink to fit) → balance
   SELL: the wallet's exit policy ("hold": kept to resolution) → anything copied from this
         wallet to exit → exit size (the fraction the target sold)
         → limit price → minimum size. No buy-side gate or filter blocks an exit: exits reduce
         risk, and a market denied or a wallet distrusted after we bought must not strand what
         we hold.
"""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.models import Action, Decision, MarketInfo, Side, TargetFill
from polymarket_bot.policy import exits, filters, reasons, risk, sizing
from polymarket_bot.policy.context import PolicyContext
from polymarket_bot.policy.limits import EffectiveRule, Limits
from polymarket_bot.policy.reasons import Skip


def decide(fill: TargetFill, ctx: PolicyContext, limits: Limits) -> Decision:
    """The decision for one target fill (see the module docstring for the order of checks)."""
    rule = limits.for_wallet(fill.wallet)
    skip = filters.kill_switch(ctx) or filters.circuit_breaker(ctx) or filters.wallet(rule)
    if skip is not None:
        return _skipped(fill, ctx, fill.condition_id, skip)
    market = filters.known_market(fill, ctx.market)
    if isinstance(market, Skip):
        return _skipped(fill, ctx, fill.condition_id, market)
    skip = filters.too_old(fill, ctx, limits)
    if skip is not None:
        return _skipped(fill, ctx, market.condition_id, skip)
    if fill.side is Side.BUY:
        return _buy(fill, ctx, limits, rule, market)
    return _sell(fill, ctx, limits, rule, market)


def _buy(fill: TargetFill, ctx: PolicyContext, limits: Limits, rule: EffectiveRule,
         market: MarketInfo) -> Decision:
    skip = (filters.price_band(fill, limits)
            or filters.market_lists(market, limits)
            or filters.source_size(fill, limits)
            or filters.confidence(rule, ctx, limits)
            or risk.paused(ctx)
            or risk.close_only(ctx)
            or risk.daily_loss(ctx, limits)
            or risk.trade_frequency(ctx, limits)
            or risk.min_interval(ctx, rule)
            or risk.open_positions(ctx, limits))
    if skip is not None:
        return _skipped(fill, ctx, market.condition_id, skip)
    price = sizing.limit_price(Side.BUY, fill.price, limits.max_slippage, market.tick_size)
    if isinstance(price, Skip):
        return _skipped(fill, ctx, market.condition_id, price)
    shares = sizing.buy_shares(rule.sizing_mode, rule.sizing_value, fill, price,
                               ctx.collateral_usdc)
    if isinstance(shares, Skip):
        return _skipped(fill, ctx, market.condition_id, shares)
    too_small = sizing.below_minimum(shares, price, market)
    if too_small is not None:
        return _skipped(fill, ctx, market.condition_id, Skip(
            reasons.BELOW_MIN_SIZE, f"{rule.sizing_mode} {rule.sizing_value}: {too_small}"))
    fitted = risk.fit_position(shares, price, market, ctx, rule)
    if isinstance(fitted, Skip):
        return _skipped(fill, ctx, market.condition_id, fitted)
    skip = risk.balance(fitted, price, ctx)
    if skip is not None:
        return _skipped(fill, ctx, market.condition_id, skip)
    sized = f"{rule.sizing_mode} {rule.sizing_value}"
    if fitted < shares:
        sized += f", shrunk from {shares} to fit the {rule.max_position_usdc} USDC cap"
    return _copied(fill, ctx, market, fitted, price, sized)


def _sell(fill: TargetFill, ctx: PolicyContext, limits: Limits, rule: EffectiveRule,
          market: MarketInfo) -> Decision:
    held = exits.hold_to_resolution(rule, ctx)
    if held is not None:
        return _skipped(fill, ctx, market.condition_id, held)
    shares = exits.exit_shares(fill, ctx, market)
    if isinstance(shares, Skip):
        return _skipped(fill, ctx, market.condition_id, shares)
    price = sizing.limit_price(Side.SELL, fill.price, limits.max_slippage, market.tick_size)
    if isinstance(price, Skip):
        return _skipped(fill, ctx, market.condition_id, price)
    too_small = sizing.below_minimum(shares, price, market)
    if too_small is not None:
        return _skipped(fill, ctx, market.condition_id, Skip(reasons.BELOW_MIN_SIZE, too_small))
    fraction = exits.exit_fraction(fill.size, ctx.target_held_before)
    held = "unknown" if ctx.target_held_before is None else f"{ctx.target_held_before}"
    sized = (f"target sold {fill.size} of {held} (fraction {fraction:.4f}) "
             f"of our {ctx.copied_shares} copied")
    return _copied(fill, ctx, market, shares, price, sized)


def _copied(fill: TargetFill, ctx: PolicyContext, market: MarketInfo, shares: Decimal,
            price: Decimal, sized: str) -> Decision:
    bound = "<=" if fill.side is Side.BUY else ">="
    return Decision(
        fill_key=fill.key, wallet=fill.wallet, token_id=fill.token_id,
        condition_id=market.condition_id, action=Action.COPY, reason=reasons.COPIED,
        detail=(f"{fill.side} {shares} @ {bound} {price} ({sized}); "
                f"target {fill.side} {fill.size} @ {fill.price}"),
        side=fill.side, size=shares, limit_price=price, decided_at=ctx.now,
    )


def _skipped(fill: TargetFill, ctx: PolicyContext, condition_id: str | None,
             skip: Skip) -> Decision:
    return Decision(
        fill_key=fill.key, wallet=fill.wallet, token_id=fill.token_id,
        condition_id=condition_id, action=Action.SKIP, reason=skip.reason, detail=skip.detail,
        side=fill.side, decided_at=ctx.now,
    )
