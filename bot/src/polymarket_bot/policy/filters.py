"""Checks that apply to every fill, buy or sell, in the order `decide` runs them.

Each returns a `Skip` when the fill must not be copied and None when it passes.
"""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.models import MarketInfo, TargetFill
from polymarket_bot.policy import reasons
from polymarket_bot.policy.context import PolicyContext
from polymarket_bot.policy.limits import EffectiveRule, Limits
from polymarket_bot.policy.reasons import Skip

TICK_SIZES = frozenset(Decimal(t) for t in ("0.1", "0.01", "0.001", "0.0001"))


def kill_switch(ctx: PolicyContext) -> Skip | None:
    if ctx.kill_switch:
        return Skip(reasons.KILL_SWITCH, "the kill-switch file is present: no orders at all")
    return None


def circuit_breaker(ctx: PolicyContext) -> Skip | None:
    if ctx.circuit_open:
        return Skip(reasons.CIRCUIT_OPEN, "the circuit breaker is open after repeated errors")
    return None


def wallet(rule: EffectiveRule) -> Skip | None:
    if not rule.known:
        return Skip(reasons.UNKNOWN_WALLET, f"{rule.address} is not a configured target")
    if not rule.enabled:
        return Skip(reasons.WALLET_DISABLED, f"{rule.label or rule.address} is disabled")
    return None


def known_market(fill: TargetFill, market: MarketInfo | None) -> MarketInfo | Skip:
    """The fill's market when it is known, consistent and open; otherwise why not."""
    if market is None:
        return Skip(reasons.UNKNOWN_MARKET, f"no market data for token {fill.token_id}")
    if market.token_id != fill.token_id or (
            fill.condition_id is not None
            and fill.condition_id.lower() != market.condition_id.lower()):
        return Skip(reasons.UNKNOWN_MARKET,
                    f"market data is for token {market.token_id} / {market.condition_id}, "
                    f"the fill is token {fill.token_id} / {fill.condition_id}")
    if market.tick_size not in TICK_SIZES or market.min_order_size < 0:
        return Skip(reasons.UNKNOWN_MARKET,
                    f"implausible market data: tick {market.tick_size}, "
                    f"min size {market.min_order_size}")
    if market.closed or not market.active:
        return Skip(reasons.MARKET_CLOSED,
                    f"market {market.slug or market.condition_id} is "
                    f"{'closed' if market.closed else 'inactive'}")
    return market


def too_old(fill: TargetFill, ctx: PolicyContext, limits: Limits) -> Skip | None:
    age = ctx.now - fill.timestamp
    if age > limits.max_fill_age_s:
        return Skip(reasons.TOO_OLD, f"fill is {age:.1f} s old > {limits.max_fill_age_s:g} s")
    return None


def price_band(fill: TargetFill, limits: Limits) -> Skip | None:
    if not limits.min_price <= fill.price <= limits.max_price:
        return Skip(reasons.PRICE_BAND,
                    f"price {fill.price} outside [{limits.min_price}, {limits.max_price}]")
    return None


def market_lists(market: MarketInfo, limits: Limits) -> Skip | None:
    names = {market.condition_id.lower()}
    if market.slug:
        names.add(market.slug.lower())
    label = market.slug or market.condition_id
    if names & limits.market_denylist:
        return Skip(reasons.MARKET_DENIED, f"market {label} is on the denylist")
    if limits.market_allowlist and not names & limits.market_allowlist:
        return Skip(reasons.MARKET_NOT_ALLOWED, f"market {label} is not on the allowlist")
    return None


def source_usdc(fill: TargetFill) -> Decimal:
    """The fill's value; a source that reported none gets shares x price."""
    return fill.usdc_size if fill.usdc_size > 0 else fill.size * fill.price


def source_size(fill: TargetFill, limits: Limits) -> Skip | None:
    value = source_usdc(fill)
    if value < limits.min_source_usdc:
        return Skip(reasons.SOURCE_TOO_SMALL,
                    f"target fill {value} USDC < {limits.min_source_usdc} USDC")
    return None


def confidence(rule: EffectiveRule, ctx: PolicyContext, limits: Limits) -> Skip | None:
    """The wallet's configured score, else the derived one; no score passes only a 0 minimum."""
    score = rule.confidence if rule.confidence is not None else ctx.confidence
    if score is None:
        if limits.min_confidence > 0:
            return Skip(reasons.CONFIDENCE_UNKNOWN,
                        f"no confidence score for {rule.label or rule.address} "
                        f"(minimum {limits.min_confidence})")
        return None
    if score < limits.min_confidence:
        return Skip(reasons.LOW_CONFIDENCE,
                    f"confidence {score:.2f} < minimum {limits.min_confidence:.2f}")
    return None
