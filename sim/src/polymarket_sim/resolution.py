"""Markets ending: the oracle's result, the CLOB closing the books, and what the chain tells back.

`resolve` is what the UMA adapter's `reportPayouts` sets off on Polygon: the market stops taking
orders and its books are cleared at once (the CLOB and Gamma follow the oracle), the CTF records
the payout vector in the next block (`ConditionResolution`), and the Data API marks positions
redeemable after `sim.positions_lag` seconds. In a neg-risk event one outcome winning means every
sibling market resolves to No.

`apply_chain_events` feeds what wallets did on-chain back into the off-chain services: their own
approvals (which the CLOB checks) and redemptions (which burn the tokens the CLOB and the Data API
count, and become REDEEM rows).
"""

from __future__ import annotations

import time
from decimal import Decimal

from .actions import ActionError, find_market
from .chain.events import Approval, ChainEvent, OperatorApproval, Redemption
from .context import Sim
from .core import UNITS, Market


def resolve(sim: Sim, market_ref: str, winner: str | int) -> list[Market]:
    """Resolve a market (slug or condition id) to `winner` (outcome name or index).

    Returns every market resolved: the one named, then its neg-risk siblings (to No) when the
    winner is the market's first outcome (Yes).
    """
    market = find_market(sim, market_ref)
    if market.resolved:
        raise ActionError(f"market {market.slug!r} is already resolved")
    index = _outcome_index(market, winner)
    resolved = [_close(sim, market, index)]
    if market.neg_risk and index == 0:
        for sibling in sim.markets:
            if (sibling is not market and sibling.neg_risk and not sibling.resolved
                    and sibling.event_slug == market.event_slug):
                resolved.append(_close(sim, sibling, 1))
    return resolved


def _outcome_index(market: Market, winner: str | int) -> int:
    if isinstance(winner, int) or str(winner).isdigit():
        index = int(winner)
        if 0 <= index < len(market.outcomes):
            return index
    else:
        for i, outcome in enumerate(market.outcomes):
            if outcome.name.lower() == str(winner).lower():
                return i
    names = ", ".join(o.name for o in market.outcomes)
    raise ActionError(f"market {market.slug!r} has no outcome {winner!r} (outcomes: {names})")


def _close(sim: Sim, market: Market, winner: int) -> Market:
    market.payouts = [1 if i == winner else 0 for i in range(len(market.outcomes))]
    market.resolved_at = time.time()
    market.closed = True
    market.active = False
    if sim.engine is not None:
        sim.engine.close_market(market)
    if sim.chain is not None:
        # a no-op for conditions already prepared; markets added bypassing add_market need it
        sim.chain.prepare_condition(market.condition_id, len(market.outcomes))
        sim.chain.report_payouts(market.condition_id, market.payouts, market.neg_risk)
    return market


def indexed(sim: Sim, market: Market, now: float | None = None) -> bool:
    """Whether the Data API has caught up with the market's resolution (the lag has passed)."""
    if market.resolved_at is None:
        return False
    return (now if now is not None else time.time()) - market.resolved_at >= sim.positions_lag


def apply_chain_events(sim: Sim, events: list[ChainEvent]) -> None:
    """Mirror a mined block's approvals and redemptions into the off-chain state."""
    for event in events:
        if isinstance(event, Approval):
            account = sim.accounts.get(event.owner)
            account.allowances[event.spender.lower()] = Decimal(event.value) / UNITS
        elif isinstance(event, OperatorApproval):
            sim.accounts.get(event.owner).operators[event.operator.lower()] = event.approved
        elif isinstance(event, Redemption):
            account = sim.accounts.get(event.user)
            for token, units in event.burned.items():
                held = account.shares.get(str(token))
                if held is not None:
                    account.shares[str(token)] = max(held - Decimal(units) / UNITS, Decimal(0))
            account.collateral += Decimal(event.pusd) / UNITS
            for listener in sim.redemption_listeners:
                listener(event)
