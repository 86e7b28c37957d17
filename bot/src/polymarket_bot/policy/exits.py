"""How much to sell when a target we copied sells: the same fraction of what we copied from it.

If the target sold 40 % of its holding, we sell 40 % of the shares we bought by copying it, so our
copy keeps the target's shape without guessing its intentions.

When the target's holding before the sell is unknown (the chain log says what was sold, not what
was held, and the /positions record may lag), we treat the sell as a FULL exit of what we copied:
the target is reducing, we cannot tell by how much, and holding on to a position whose reason to
exist is fading is the riskier error. Selling too much only forgoes some upside; selling too little
leaves us exposed with no further signal guaranteed to come.
"""

from __future__ import annotations

from decimal import Decimal

from polymarket_bot.models import MarketInfo, TargetFill
from polymarket_bot.policy import reasons
from polymarket_bot.policy.context import PolicyContext
from polymarket_bot.policy.limits import EffectiveRule
from polymarket_bot.policy.reasons import Skip
from polymarket_bot.policy.sizing import floor_shares

ONE = Decimal(1)


def exit_fraction(sold: Decimal, held_before: Decimal | None) -> Decimal:
    """The part of its holding the target sold, in (0, 1]; unknown holding → 1 (see module)."""
    if held_before is None or held_before <= 0:
        return ONE
    return min(ONE, sold / held_before)


def hold_to_resolution(rule: EffectiveRule, ctx: PolicyContext) -> Skip | None:
    """A wallet set to "hold" keeps its copies until the market resolves (then redeemed)."""
    if rule.exit_policy != "hold":
        return None
    return Skip(reasons.HOLD_TO_RESOLUTION,
                f"exit_policy hold: keeping our {ctx.copied_shares} copied shares until the "
                "market resolves")


def exit_shares(fill: TargetFill, ctx: PolicyContext, market: MarketInfo) -> Decimal | Skip:
    """Shares to sell, at most what we copied from this wallet and at most what we hold."""
    held = ctx.position.size if ctx.position is not None else Decimal(0)
    available = floor_shares(min(ctx.copied_shares, held))
    if available <= 0:
        return Skip(reasons.NOTHING_TO_EXIT,
                    f"we hold {held} shares, {ctx.copied_shares} of them copied from this wallet")
    fraction = exit_fraction(fill.size, ctx.target_held_before)
    shares = min(floor_shares(ctx.copied_shares * fraction), available)
    if available - shares < market.min_order_size:
        # The rest would be below the CLOB's minimum and could never be sold on its own.
        shares = available
    return shares
