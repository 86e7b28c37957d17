"""What scripted actors and the admin API do to the simulated exchange.

Scenario files and admin requests both end up here, so a fill injected at run time takes exactly the
path a scripted one does: through the matching engine, into the ledger, onto the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .context import Sim
from .core import Market, Match, Side, checksum, to_units

# The market maker that provides scripted liquidity and takes scripted makers' orders.
MARKET_MAKER = "0x00000000000000000000000000000000000000AA"


class ActionError(ValueError):
    """A scripted action that cannot be carried out (unknown market, no liquidity…)."""


@dataclass
class FillResult:
    order_id: str
    status: str
    match: Match | None

    def as_dict(self) -> dict:
        match = self.match
        return {
            "order_id": self.order_id,
            "status": self.status,
            "match_id": match.match_id if match else None,
            "size": str(match.size) if match else "0",
            "price": str(match.price) if match else None,
        }


WEI_PER_POL = Decimal(10) ** 18


def fund(sim: Sim, address: str, collateral: Decimal, allowance: Decimal | None = None,
         shares: dict[str, Decimal] | None = None, pol: Decimal = Decimal(0),
         approvals: bool = True) -> None:
    """Give an address pUSD, outcome shares and POL (all on-chain too).

    `approvals` (the default) also grants, on-chain, every approval trading and redeeming need,
    as if the wallet had sent them; without it the wallet starts with none and must send its own
    `approve`/`setApprovalForAll` before the CLOB takes its orders.
    """
    address = checksum(address)
    for token_id in shares or {}:
        if sim.markets.by_token(token_id) is None:
            raise ActionError(f"unknown token_id {token_id}")
    if approvals:
        account = sim.accounts.fund(address, collateral, allowance)
    else:
        account = sim.accounts.fund(address, collateral,
                                    allowance if allowance is not None else Decimal(0))
        account.shares_approved = False
    for token_id, amount in (shares or {}).items():
        account.shares[token_id] += amount
    chain = sim.chain
    if chain is None:
        return
    if collateral > 0:
        chain.mint(address, to_units(collateral))
    for token_id, amount in (shares or {}).items():
        if amount > 0 and token_id.isdigit():
            chain.mint_tokens(address, int(token_id), to_units(amount))
    if pol > 0:
        chain.fund_native(address, int(pol * WEI_PER_POL))
    if approvals:
        chain.approve_all(address)


def find_market(sim: Sim, market: str) -> Market:
    """A market by slug or condition id."""
    found = sim.markets.by_condition(market) or next(
        (m for m in sim.markets if m.slug == market), None)
    if found is None:
        raise ActionError(f"unknown market {market!r}")
    return found


def add_market(sim: Sim, market: Market) -> None:
    """List a market: in the CLOB and Gamma now, its condition in the CTF from the next block."""
    sim.markets.add(market)
    if sim.chain is not None:
        sim.chain.prepare_condition(market.condition_id, len(market.outcomes))


def resolve_token(sim: Sim, market: str, outcome: str | int) -> str:
    """A token id from a market (slug or condition id) and an outcome (name or index)."""
    found = find_market(sim, market)
    if isinstance(outcome, int) or str(outcome).isdigit():
        index = int(outcome)
        if not 0 <= index < len(found.outcomes):
            raise ActionError(f"market {market!r} has no outcome #{index}")
        return found.outcomes[index].token_id
    for candidate in found.outcomes:
        if candidate.name.lower() == str(outcome).lower():
            return candidate.token_id
    names = ", ".join(o.name for o in found.outcomes)
    raise ActionError(f"market {market!r} has no outcome {outcome!r} (outcomes: {names})")


def add_liquidity(sim: Sim, token_id: str, side: Side, price: Decimal, size: Decimal,
                  address: str = MARKET_MAKER) -> str:
    """Rest an unfunded market-maker order on the book; returns its order id."""
    result = _engine(sim).place(address, token_id, side, price, size, "GTC", post_only=True,
                                unlimited=True)
    return result.order_id


def trade(sim: Sim, trader: str, token_id: str, side: Side, price: Decimal, size: Decimal,
          role: str = "taker") -> FillResult:
    """Make `trader` fill `size` shares at `price`, as taker or maker.

    As taker, market-maker liquidity is rested at the price first, so the fill happens even on an
    empty book. As maker, the trader's order rests and the market maker takes it; the trader's price
    must be the best on its side, as on the real exchange, or better-priced orders fill first.
    """
    engine = _engine(sim)
    trader = checksum(trader)
    if role == "taker":
        try:
            helper = add_liquidity(sim, token_id, side.opposite, price, size)
        except ActionError:
            helper = None  # the book already crosses that price: the trade fills without help
        result = engine.place(trader, token_id, side, price, size, "FAK", unlimited=True)
        if helper is not None:
            # what the trade did not need must not pile up on the book
            engine.cancel([helper], MARKET_MAKER)
        return FillResult(result.order_id, result.status, result.match)
    if role == "maker":
        resting = engine.place(trader, token_id, side, price, size, "GTC", post_only=True,
                               unlimited=True)
        engine.place(MARKET_MAKER, token_id, side.opposite, price, size, "FAK", unlimited=True)
        engine.cancel([resting.order_id], trader)
        match = next((m for m in reversed(sim.ledger.for_address(trader))
                      if any(f.order_id == resting.order_id for f in m.makers)), None)
        return FillResult(resting.order_id, "matched" if match else resting.status, match)
    raise ActionError(f"role must be taker or maker, not {role!r}")


def _engine(sim: Sim):
    if sim.engine is None:
        raise ActionError("the CLOB engine is not running")
    return sim.engine
