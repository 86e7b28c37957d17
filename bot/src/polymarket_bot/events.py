"""What the running bot tells its observers (metrics, alerts): one small record per event.

The engine and the position life cycle emit them through one `OnEvent` callable; observers
match on the type, so a misspelt kind is a NameError at import, not an event silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from polymarket_bot.models import Decision, OrderIntent, OrderResult

if TYPE_CHECKING:  # web3 and the state schema stay out of this module's imports
    from polymarket_bot.execution.redeem import Outcome
    from polymarket_bot.state.resolution import ResolvedPosition


@dataclass(frozen=True)
class Label:
    """What a human calls a token: the market's question and the outcome's name."""

    market: str
    outcome: str


@dataclass(frozen=True)
class Decided:
    """A target fill was decided on: copied, or skipped with a reason."""

    decision: Decision


@dataclass(frozen=True)
class Traded:
    """An order of ours (partly) filled."""

    intent: OrderIntent
    result: OrderResult


@dataclass(frozen=True)
class OrderFailed:
    """Final: the bot will do nothing more about this intent."""

    intent: OrderIntent
    error: str


@dataclass(frozen=True)
class OrderDelayed:
    """Not final: the intent is posted again until `deadline` (unix time)."""

    intent: OrderIntent
    error: str
    deadline: float


@dataclass(frozen=True)
class BreakerOpened:
    """Consecutive order errors opened the circuit breaker."""

    errors: int


@dataclass(frozen=True)
class RiskLimitHit:
    """A risk limit tripped (today: the daily loss, which halts buys until 00:00 UTC)."""

    limit: str
    pnl: Decimal


@dataclass(frozen=True)
class MarketResolved:
    position: ResolvedPosition
    label: Label


@dataclass(frozen=True)
class Redeemed:
    outcome: Outcome
    label: Label


@dataclass(frozen=True)
class RedeemFailed:
    """A redemption failed, or must be done by hand (`outcome.status`)."""

    outcome: Outcome
    label: Label


Event = (Decided | Traded | OrderFailed | OrderDelayed | BreakerOpened | RiskLimitHit
         | MarketResolved | Redeemed | RedeemFailed)
OnEvent = Callable[[Event], None]


def ignore(event: Event) -> None:
    """The observer of a bot nobody watches (tests, tools)."""
