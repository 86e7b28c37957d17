"""Decision: what to do with one target fill, as a pure function of the fill, our state and limits.

The engine builds a `PolicyContext` from the store, calls `decide`, journals the `Decision` and,
for a copy, commits an order intent with its side, size and limit price.
"""

from polymarket_bot.policy.context import PolicyContext
from polymarket_bot.policy.decide import decide
from polymarket_bot.policy.limits import EffectiveRule, Limits, SizingMode, WalletRule
from polymarket_bot.policy.reasons import SKIP_REASONS, Skip

__all__ = [
    "SKIP_REASONS",
    "EffectiveRule",
    "Limits",
    "PolicyContext",
    "SizingMode",
    "Skip",
    "WalletRule",
    "decide",
]
