"""Scenario files: the markets, books, funded wallets and scripted traders a simulation starts with.

A scenario is YAML validated by pydantic, so a typo in a test fixture fails loudly with the field's
path instead of producing a quiet, wrong market. See `scenarios/demo.yaml` for a full example.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from eth_utils import is_address, keccak
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import actions, resolution
from .addresses import POLYGON, contracts
from .chain.positions import outcome_token_ids
from .context import Sim
from .core import Market, Outcome, Side, checksum

log = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Level(_Strict):
    price: Decimal = Field(gt=0, lt=1)
    size: Decimal = Field(gt=0)


class OutcomeSpec(_Strict):
    name: str
    token_id: str | None = None
    bids: list[Level] = []
    asks: list[Level] = []

    @field_validator("bids", "asks", mode="before")
    @classmethod
    def _pairs(cls, value: object) -> object:
        # [[price, size], ...] is the readable way to write a book level
        if isinstance(value, list):
            return [{"price": v[0], "size": v[1]} if isinstance(v, list | tuple) else v
                    for v in value]
        return value


class MarketSpec(_Strict):
    slug: str
    question: str = ""
    condition_id: str | None = None
    event_slug: str = ""
    outcomes: list[OutcomeSpec] = Field(min_length=2)
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal(5)
    neg_risk: bool = False
    end_date: str = "2027-01-01T00:00:00Z"

    @field_validator("outcomes", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("tick_size")
    @classmethod
    def _tick(cls, value: Decimal) -> Decimal:
        if value not in {Decimal("0.1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.0001")}:
            raise ValueError("tick_size must be one of 0.1, 0.01, 0.001, 0.0001")
        return value

    def build(self) -> Market:
        """The market; token ids default to the CTF position ids of its condition's outcomes,
        so the tokens redeem on-chain (an explicit token_id is used as given)."""
        condition_id = self.condition_id or "0x" + keccak(text=f"condition:{self.slug}").hex()
        derived = outcome_token_ids(condition_id, len(self.outcomes),
                                    contracts(POLYGON).position_collateral(self.neg_risk))
        outcomes = [Outcome(o.name, o.token_id or token)
                    for o, token in zip(self.outcomes, derived, strict=True)]
        return Market(condition_id=condition_id, question=self.question or self.slug,
                      slug=self.slug, outcomes=outcomes, tick_size=self.tick_size,
                      min_order_size=self.min_order_size, neg_risk=self.neg_risk,
                      event_slug=self.event_slug or self.slug, end_date=self.end_date)


class AccountSpec(_Strict):
    address: str
    label: str = ""
    collateral: Decimal = Field(default=Decimal(0), ge=0)
    allowance: Decimal | None = Field(default=None, ge=0)
    shares: dict[str, Decimal] = Field(default_factory=dict,
                                       description="'market-slug/Outcome' -> shares")
    pol: Decimal = Field(default=Decimal(0), ge=0, description="POL for gas")
    approvals: bool = Field(default=True, description="grant every approval on-chain")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not is_address(value):
            raise ValueError(f"{value!r} is not an address: 0x followed by 40 hex digits")
        return checksum(value)


class TradeSpec(_Strict):
    at: float = Field(ge=0, description="seconds after the scenario starts")
    market: str
    outcome: str | int
    side: Side
    size: Decimal = Field(gt=0)
    price: Decimal = Field(gt=0, lt=1)
    role: Literal["taker", "maker"] = "taker"
    every: float | None = Field(default=None, gt=0, description="repeat period in seconds")
    times: int = Field(default=1, ge=1)


class ResolveSpec(_Strict):
    """A market ending: `winner` is an outcome name or index."""

    at: float = Field(ge=0, description="seconds after the scenario starts")
    market: str
    winner: str | int


class TraderSpec(_Strict):
    address: str
    name: str = ""
    trades: list[TradeSpec] = []

    _address = field_validator("address")(AccountSpec._address.__func__)


class RandomFlow(_Strict):
    """Background activity: traders buying and later selling at random, for demos and soak runs."""

    traders: list[str] = Field(min_length=1)
    markets: list[str] = Field(default_factory=list, description="slugs; empty = all")
    interval: float = Field(default=5.0, gt=0, description="mean seconds between trades")
    min_size: Decimal = Decimal(5)
    max_size: Decimal = Decimal(50)
    seed: int = 1


class Scenario(_Strict):
    name: str = "scenario"
    markets: list[MarketSpec] = []
    accounts: list[AccountSpec] = []
    traders: list[TraderSpec] = []
    random_flow: RandomFlow | None = None
    resolve: list[ResolveSpec] = []

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Scenario:
        """Trades name markets of this scenario, or (loaded into a running simulator, which
        passes its markets as validation context) markets that already exist."""
        slugs = {m.slug: [o.name for o in m.outcomes] for m in self.markets}
        if len(slugs) != len(self.markets):
            raise ValueError("market slugs must be unique")
        known = {**((info.context or {}).get("markets") or {}), **slugs}
        for trader in self.traders:
            for trade in trader.trades:
                outcomes = known.get(trade.market)
                if outcomes is None:
                    raise ValueError(f"trader {trader.address}: unknown market {trade.market!r}")
                names = {name.lower() for name in outcomes}
                if isinstance(trade.outcome, str) and trade.outcome.lower() not in names:
                    raise ValueError(f"trader {trader.address}: market {trade.market!r} has no "
                                     f"outcome {trade.outcome!r}")
        resolved: set[str] = set()
        for i, entry in enumerate(self.resolve):
            where = f"resolve[{i}]"
            outcomes = known.get(entry.market)
            if outcomes is None:
                raise ValueError(f"{where}.market: unknown market {entry.market!r} "
                                 f"(markets: {', '.join(sorted(known)) or 'none'})")
            if not _names_outcome(outcomes, entry.winner):
                raise ValueError(f"{where}.winner: market {entry.market!r} has no outcome "
                                 f"{entry.winner!r} (outcomes: {', '.join(outcomes)})")
            if entry.market in resolved:
                raise ValueError(f"{where}.market: {entry.market!r} is resolved twice")
            resolved.add(entry.market)
        return self

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.model_validate(data)


def _names_outcome(outcomes: list[str], winner: str | int) -> bool:
    if isinstance(winner, int) or winner.isdigit():
        return 0 <= int(winner) < len(outcomes)
    return winner.lower() in {name.lower() for name in outcomes}


def apply(sim: Sim, scenario: Scenario) -> None:
    """Create the scenario's markets, books and funded accounts."""
    for spec in scenario.markets:
        market = spec.build()
        actions.add_market(sim, market)
        for outcome_spec, outcome in zip(spec.outcomes, market.outcomes, strict=True):
            for level in outcome_spec.bids:
                actions.add_liquidity(sim, outcome.token_id, Side.BUY, level.price, level.size)
            for level in outcome_spec.asks:
                actions.add_liquidity(sim, outcome.token_id, Side.SELL, level.price, level.size)
    for account in scenario.accounts:
        shares = {}
        for key, amount in account.shares.items():
            slug, _, outcome = key.partition("/")
            shares[actions.resolve_token(sim, slug, outcome)] = amount
        actions.fund(sim, account.address, account.collateral, account.allowance, shares,
                     pol=account.pol, approvals=account.approvals)
    for trader in scenario.traders:
        if trader.name:
            sim.profiles[trader.address.lower()] = trader.name


async def run(sim: Sim, scenario: Scenario, started: float | None = None) -> None:
    """Play the scripted trades on time, then the random flow (if any) until cancelled."""
    start = started if started is not None else time.monotonic()
    schedule: list[tuple[float, str, TradeSpec | ResolveSpec]] = sorted(
        [(trade.at + i * (trade.every or 0), trader.address, trade)
         for trader in scenario.traders for trade in trader.trades for i in range(trade.times)]
        + [(entry.at, "", entry) for entry in scenario.resolve],
        key=lambda entry: entry[0])  # stable: equal times keep the file's order
    for at, address, step in schedule:
        delay = start + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if isinstance(step, ResolveSpec):
            _resolve(sim, step)
            continue
        _play(sim, address, step.market, step.outcome, step.side, step.price, step.size,
              step.role)
    if scenario.random_flow is not None:
        await _random_flow(sim, scenario.random_flow)


def _play(sim: Sim, address: str, market: str, outcome: str | int, side: Side, price: Decimal,
          size: Decimal, role: str) -> None:
    try:
        token_id = actions.resolve_token(sim, market, outcome)
        result = actions.trade(sim, address, token_id, side, price, size, role)
        log.info("scripted %s %s %s %s@%s as %s: %s", address, side, market, size, price, role,
                 result.status)
    except actions.ActionError as exc:
        log.warning("scripted trade by %s skipped: %s", address, exc)


def _resolve(sim: Sim, step: ResolveSpec) -> None:
    try:
        for market in resolution.resolve(sim, step.market, step.winner):
            log.info("resolved %s: %s", market.slug, market.payouts)
    except actions.ActionError as exc:
        log.warning("scripted resolution of %s skipped: %s", step.market, exc)


async def _random_flow(sim: Sim, flow: RandomFlow) -> None:
    rng = random.Random(flow.seed)
    markets = [m for m in sim.markets if not flow.markets or m.slug in flow.markets]
    held: dict[tuple[str, str], Decimal] = {}
    while True:
        await asyncio.sleep(rng.expovariate(1 / flow.interval))
        open_markets = [m for m in markets if not m.closed]
        if not open_markets:
            return
        trader = checksum(rng.choice(flow.traders))
        market = rng.choice(open_markets)
        outcome = rng.randrange(len(market.outcomes))
        token_id = market.outcomes[outcome].token_id
        holding = held.get((trader, token_id), Decimal(0))
        selling = holding > 0 and rng.random() < 0.35
        size = holding if selling and rng.random() < 0.5 else _size(rng, flow, market)
        size = min(size, holding) if selling else size
        side = Side.SELL if selling else Side.BUY
        role = "maker" if rng.random() < 0.25 else "taker"
        price = _price_near_book(sim, token_id, side, role, market.tick_size)
        if price is None:
            continue
        _play(sim, trader, market.slug, outcome, side, price, size, role)
        held[(trader, token_id)] = holding + (-size if selling else size)


def _size(rng: random.Random, flow: RandomFlow, market: Market) -> Decimal:
    low = max(flow.min_size, market.min_order_size)
    return Decimal(rng.randint(int(low), int(max(low, flow.max_size))))


def _price_near_book(sim: Sim, token_id: str, side: Side, role: str,
                     tick: Decimal) -> Decimal | None:
    """Where a real trader would trade: take the best price, or improve it by a tick as maker."""
    book = sim.engine.book(token_id) if sim.engine else None
    if book is None or book.best_bid is None or book.best_ask is None:
        return None
    if role == "taker":
        return book.best_ask if side is Side.BUY else book.best_bid
    inside = book.best_bid + tick if side is Side.BUY else book.best_ask - tick
    return inside if book.best_bid < inside < book.best_ask else None
