"""Property tests: random streams of target fills through `decide` and a simple portfolio.

The in-test portfolio executes every COPY in full at its limit price (the worst case the limit
allows) and feeds the new numbers into the next context, the way the engine does from its store.
Whatever the stream, the limits must hold at every step.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from policy_helpers import NOW, D, fill, market

from polymarket_bot.models import Action, Decision, MarketInfo, Position, Side, TargetFill
from polymarket_bot.policy import SKIP_REASONS, Limits, PolicyContext, WalletRule, decide, reasons
from polymarket_bot.policy.sizing import MIN_NOTIONAL_USDC, floor_shares

HOUR = 3600
TICKS = [D("0.1"), D("0.01"), D("0.001"), D("0.0001")]
WALLETS = ["0x" + f"{n:02x}" * 20 for n in (0xA1, 0xB2, 0xC3)]
PROFILE = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n) / 100)


def realistic(usual: st.SearchStrategy[Decimal], *edges: Decimal) -> st.SearchStrategy[Decimal]:
    """Mostly `usual` values, so streams run long enough to meet the limits; sometimes an edge."""
    return st.integers(0, 9).flatmap(lambda k: st.sampled_from(edges) if k == 9 else usual)


@st.composite
def limits_strategy(draw: st.DrawFn) -> Limits:
    mode = draw(st.sampled_from(["fixed", "proportional", "balance_pct"]))
    value = {"fixed": realistic(cents(500, 5000), D(1)),
             "proportional": realistic(cents(10, 200), D("0.01")),
             "balance_pct": realistic(cents(100, 2000), D("0.1"), D(100))}[mode]
    overrides = st.one_of(st.none(), cents(0, 10_000))
    wallets = tuple(
        WalletRule(address, label=f"w{i}", confidence=draw(st.sampled_from([None, 0.9, 0.9])),
                   max_position_usdc=draw(overrides),
                   min_trade_interval_s=draw(st.sampled_from([None, 0.0, 60.0])))
        for i, address in enumerate(WALLETS))
    return Limits(
        max_position_usdc=draw(realistic(cents(500, 20_000), D(0), D(1), D(5))),
        max_daily_loss_usdc=draw(realistic(cents(2_000, 20_000), D(0), D("0.01"))),
        max_trades_per_hour=draw(st.integers(0, 15)),
        min_trade_interval_s=draw(st.sampled_from([0.0, 30.0, 300.0])),
        max_open_positions=draw(st.sampled_from([None, None, None, 0, 1, 2, 4])),
        min_price=draw(st.sampled_from([D(0), D("0.02")])),
        max_price=draw(st.sampled_from([D(1), D("0.98")])),
        min_source_usdc=draw(st.sampled_from([D(0), D(1)])),
        max_fill_age_s=300.0,
        min_confidence=draw(st.sampled_from([0.0, 0.0, 0.0, 0.5])),
        sizing_mode=mode,
        sizing_value=draw(value),
        max_slippage=draw(realistic(st.integers(0, 1000).map(lambda n: Decimal(n) / 10_000),
                                    D(0), D("0.0001"), D("0.001"))),
        wallets=wallets,
    )


@st.composite
def markets_strategy(draw: st.DrawFn) -> dict[str, MarketInfo]:
    """One to three conditions of two outcome tokens each, every one with its own tick size."""
    markets = {}
    for c in range(draw(st.integers(1, 3))):
        condition = "0x" + f"{c + 1:02x}" * 32
        min_size = draw(st.sampled_from([D(1), D(5), D(15)]))
        for outcome in range(2):
            token = f"{c + 1}{outcome}"
            markets[token] = market(token_id=token, condition_id=condition, slug=f"m{c}",
                                    outcome=str(outcome), outcome_index=outcome,
                                    tick_size=draw(st.sampled_from(TICKS)),
                                    min_order_size=min_size)
    return markets


@dataclass(frozen=True)
class Step:
    wallet: int
    token: int
    pick: int  # a sell picks one of the target positions by this, so exits meet our copies
    side: Side
    price: Decimal
    size: Decimal
    sell_fraction: Decimal  # a sell's size as a part of what the target holds, when it holds some
    holding_known: bool
    dt: float  # seconds since the previous step
    age: float  # the fill's age when we decide on it
    shock: Decimal  # a loss on our marks from outside the stream (other markets moving)


# Mostly ordinary prices; the extremes (where clamping to [tick, 1 - tick] matters) often enough.
prices = st.integers(0, 9).flatmap(
    lambda k: st.integers(1, 9999) if k == 0
    else st.sampled_from([1, 50, 99, 100, 101, 9899, 9900, 9901, 9950, 9999]) if k == 1
    else st.integers(500, 9500)).map(lambda n: Decimal(n) / 10_000)

steps_strategy = st.lists(st.builds(
    Step,
    wallet=st.integers(0, len(WALLETS) - 1),
    token=st.integers(0, 5),
    pick=st.integers(0, 20),
    side=st.sampled_from([Side.BUY, Side.BUY, Side.SELL]),
    price=prices,
    # Mostly ordinary sizes; tiny ones often enough to hit the minimums.
    size=st.one_of(st.integers(1_000, 500_000), st.integers(1_000, 500_000), st.integers(1, 999))
    .map(lambda n: Decimal(n) / 100),
    sell_fraction=st.integers(1, 100).map(lambda n: Decimal(n) / 100),
    holding_known=st.booleans(),
    dt=st.sampled_from([0.0, 0.0, 1.0, 20.0, 45.0, 100.0, 200.0, 400.0, 1800.0]),
    age=st.sampled_from([0.0, 0.0, 0.0, 10.0, 299.0, 301.0]),
    shock=st.sampled_from([D(0)] * 8 + [D(-1), D(-25)]),
), min_size=10, max_size=60)


@dataclass
class Portfolio:
    """Our book in the simplest honest form: shares and average cost per token."""

    markets: dict[str, MarketInfo]
    collateral: Decimal
    shares: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cost: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    copied: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    target: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    marks: dict[str, Decimal] = field(default_factory=dict)
    realized: Decimal = Decimal(0)
    shocks: Decimal = Decimal(0)
    pnl_low: Decimal = Decimal(0)
    copy_times: list[float] = field(default_factory=list)
    last_copy: dict[tuple[str, str], float] = field(default_factory=dict)

    def exposure(self, condition: str) -> Decimal:
        return sum((self.cost[t] for t, m in self.markets.items()
                    if m.condition_id == condition), Decimal(0))

    def open_positions(self) -> int:
        return sum(1 for size in self.shares.values() if size > 0)

    def pnl(self) -> Decimal:
        marked = sum((self.shares[t] * self.marks.get(t, Decimal(0)) - self.cost[t]
                      for t in self.markets), Decimal(0))
        return self.realized + marked + self.shocks

    def copies_within_hour(self, now: float) -> int:
        return sum(1 for t in self.copy_times if now - t < HOUR)

    def context(self, target: TargetFill, now: float, held_before: Decimal | None) -> PolicyContext:
        token, wallet = target.token_id, target.wallet
        info = self.markets[token]
        held = self.shares[token]
        return PolicyContext(
            now=now, market=info,
            position=Position(token_id=token, condition_id=info.condition_id, size=held,
                              cost=self.cost[token]) if held > 0 else None,
            market_exposure_usdc=self.exposure(info.condition_id),
            open_positions=self.open_positions(),
            trades_last_hour=self.copies_within_hour(now),
            last_trade_at=self.last_copy.get((wallet, info.condition_id)),
            daily_pnl_usdc=self.pnl(), daily_pnl_low_usdc=self.pnl_low,
            copied_shares=self.copied[(wallet, token)],
            target_held_before=held_before,
            collateral_usdc=self.collateral,
        )

    def execute(self, decision: Decision, now: float) -> None:
        token, size, price = decision.token_id, decision.size, decision.limit_price
        assert price is not None
        if decision.side is Side.BUY:
            self.shares[token] += size
            self.cost[token] += size * price
            self.collateral -= size * price
        else:
            average = self.cost[token] / self.shares[token]
            self.realized += size * (price - average)
            self.shares[token] -= size
            self.cost[token] = Decimal(0) if self.shares[token] == 0 else \
                self.cost[token] - size * average
            self.collateral += size * price
        sign = 1 if decision.side is Side.BUY else -1
        self.copied[(decision.wallet, token)] += sign * size
        self.copy_times.append(now)
        self.last_copy[(decision.wallet, decision.condition_id)] = now


def check_copy(decision: Decision, target: TargetFill, ctx: PolicyContext, limits: Limits,
               book: Portfolio, now: float) -> None:
    """The invariants of one copied order, checked before the portfolio executes it."""
    info = ctx.market
    assert info is not None
    price, size, tick = decision.limit_price, decision.size, info.tick_size
    assert price is not None
    assert decision.reason == reasons.COPIED and decision.side is target.side
    # The order is one the CLOB accepts: on the tick grid, inside [tick, 1 - tick] ...
    assert price % tick == 0 and tick <= price <= 1 - tick
    # ... never chasing past the slippage cap ...
    if target.side is Side.BUY:
        assert price <= target.price + limits.max_slippage
    else:
        assert price >= target.price - limits.max_slippage
    # ... and never below the minimums, in the CLOB's share precision.
    assert size == floor_shares(size)
    assert size >= info.min_order_size and size * price >= MIN_NOTIONAL_USDC
    if target.side is Side.SELL:
        assert ctx.position is not None
        assert size <= ctx.position.size and size <= ctx.copied_shares
        return
    rule = limits.for_wallet(target.wallet)
    assert ctx.daily_pnl_usdc > -limits.max_daily_loss_usdc
    assert book.pnl_low > -limits.max_daily_loss_usdc
    assert ctx.market_exposure_usdc + size * price <= rule.max_position_usdc
    assert book.copies_within_hour(now) + 1 <= limits.max_trades_per_hour
    if ctx.last_trade_at is not None:
        assert now - ctx.last_trade_at >= rule.min_trade_interval_s
    if ctx.position is None and limits.max_open_positions is not None:
        assert ctx.open_positions < limits.max_open_positions
    if ctx.collateral_usdc is not None:  # unknown: the exchange checks the balance itself
        assert size * price <= ctx.collateral_usdc


@PROFILE
@given(limits=limits_strategy(), markets=markets_strategy(), steps=steps_strategy,
       collateral=realistic(cents(10_000, 1_000_000), D(0), D(3)))
def test_limits_hold_for_any_stream_of_fills(limits: Limits, markets: dict[str, MarketInfo],
                                             steps: list[Step], collateral: Decimal) -> None:
    book = Portfolio(markets=markets, collateral=collateral)
    tokens = sorted(markets)
    now = NOW
    for n, step in enumerate(steps):
        now += step.dt
        wallet, token = WALLETS[step.wallet], tokens[step.token % len(tokens)]
        # Exits mostly hit positions we copied, sometimes ones we skipped or never saw bought.
        candidates = sorted(key for key, shares in
                            (book.copied if step.pick % 2 else book.target).items() if shares > 0)
        if step.side is Side.SELL and candidates:
            wallet, token = candidates[step.pick % len(candidates)]
        holding = book.target[(wallet, token)]
        size = step.size
        if step.side is Side.SELL and holding > 0:
            size = max(Decimal("0.01"), floor_shares(holding * step.sell_fraction))
        held_before = holding if step.holding_known else None
        target = fill(step.side, step.price, size, wallet=wallet, token_id=token,
                      occurrence=n, condition_id=markets[token].condition_id,
                      timestamp=now - step.age)

        ctx = book.context(target, now, held_before)
        decision = decide(target, ctx, limits)
        event(f"{step.side} {decision.reason}")

        if decision.action is Action.COPY:
            check_copy(decision, target, ctx, limits, book, now)
            book.execute(decision, now)
        else:
            assert decision.reason in SKIP_REASONS and decision.size == 0
        # The target's own book and the market's marks move whatever we did.
        sign = 1 if step.side is Side.BUY else -1
        book.target[(wallet, token)] = max(Decimal(0), holding + sign * size)
        book.marks[token] = step.price
        book.shocks += step.shock
        book.pnl_low = min(book.pnl_low, book.pnl())

        # Standing invariants of the whole book after every step.
        for condition in {m.condition_id for m in markets.values()}:
            assert book.exposure(condition) <= limits.max_position_usdc
        if limits.max_open_positions is not None:
            assert book.open_positions() <= limits.max_open_positions
        assert all(shares >= 0 for shares in book.shares.values())
        assert all(copied >= 0 for copied in book.copied.values())
        assert book.collateral >= 0


@settings(PROFILE, max_examples=300)
@given(
    limits=limits_strategy(), markets=markets_strategy(),
    side=st.sampled_from(list(Side)), price=prices, size=st.integers(1, 10**7),
    exposure=st.one_of(st.just(D(0)), cents(0, 30_000)),
    held=cents(0, 100_000), copied=cents(0, 100_000),
    held_before=st.one_of(st.none(), cents(0, 100_000)), pnl=cents(-10_000, 10_000),
    trades=st.one_of(st.just(0), st.integers(0, 20)),
    collateral=st.one_of(st.none(), cents(0, 100_000)),
    since_last=st.one_of(st.none(), st.integers(0, 400).map(float)),
    open_positions=st.integers(0, 6),
    wallet=st.sampled_from([*WALLETS, "0x" + "ee" * 20]),
)
def test_any_single_decision_respects_the_limits(
        limits: Limits, markets: dict[str, MarketInfo], side: Side, price: Decimal, size: int,
        exposure: Decimal, held: Decimal, copied: Decimal, held_before: Decimal | None,
        pnl: Decimal, trades: int, collateral: Decimal | None, since_last: float | None,
        open_positions: int, wallet: str) -> None:
    """Arbitrary (even inconsistent) snapshots: decide never raises and never breaks a limit."""
    info = next(iter(markets.values()))
    target = fill(side, price, Decimal(size) / 100, wallet=wallet,
                  token_id=info.token_id, condition_id=info.condition_id)
    ctx = PolicyContext(
        now=NOW, market=info, market_exposure_usdc=exposure,
        position=Position(token_id=info.token_id, condition_id=info.condition_id, size=held,
                          cost=held / 2) if held > 0 else None,
        copied_shares=copied, target_held_before=held_before, daily_pnl_usdc=pnl,
        trades_last_hour=trades, collateral_usdc=collateral, confidence=0.9,
        last_trade_at=None if since_last is None else NOW - since_last,
        open_positions=open_positions,
    )
    decision = decide(target, ctx, limits)
    event(f"{side} {decision.reason}")

    assert decision.fill_key == target.key and decision.decided_at == NOW
    if decision.action is Action.SKIP:
        assert decision.reason in SKIP_REASONS and decision.size == 0
        return
    book = Portfolio(markets=markets, collateral=collateral or Decimal(0))
    book.pnl_low = pnl
    book.copy_times = [NOW] * trades
    check_copy(decision, target, ctx, limits, book, NOW)
