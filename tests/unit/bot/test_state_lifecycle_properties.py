"""Property test: any stream of our fills and market resolutions, through the real store, agrees
with a straightforward reference (a dict of shares and money spent per token)."""

from __future__ import annotations

import itertools
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from state_helpers import detection, result

from polymarket_bot.models import Side
from polymarket_bot.policy import Limits, PolicyContext, reasons
from polymarket_bot.policy.risk import open_positions
from polymarket_bot.state import Store, utc_day

DAY = 1_780_000_000.0
MARKETS = {f"0x{m:064x}": (f"{m}1", f"{m}2") for m in range(1, 4)}  # condition → (yes, no)
TOKENS = {token: condition for condition, pair in MARKETS.items() for token in pair}
EPSILON = Decimal("0.00001")  # average cost is kept to 6 decimals; a few roundings may add up
LIMIT = 2

trade = st.tuples(st.just("trade"), st.sampled_from(sorted(TOKENS)), st.sampled_from(list(Side)),
                  st.integers(1, 40).map(lambda n: Decimal(n) / 2),
                  st.integers(1, 99).map(lambda n: Decimal(n) / 100))
resolution = st.tuples(st.just("resolve"), st.sampled_from(sorted(MARKETS)), st.booleans())
streams = st.lists(st.one_of(trade, trade, trade, resolution), max_size=30)


class Reference:
    """Shares held and pUSD in and out, per token; nothing clever."""

    def __init__(self) -> None:
        self.shares: dict[str, Decimal] = defaultdict(Decimal)
        self.cash = Decimal(0)  # pUSD received minus paid, over all fills and payouts
        self.resolved: set[str] = set()
        self.owed = Decimal(0)  # winning shares' payouts not yet redeemed

    def open_tokens(self) -> set[str]:
        return {t for t, s in self.shares.items() if s > 0 and TOKENS[t] not in self.resolved}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams)
def test_positions_pnl_and_limits_agree_with_the_reference(stream: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bot.db") as store:
        ref = Reference()
        orders = itertools.count()
        for step in stream:
            if step[0] == "trade":
                _, token, side, shares, price = step
                if TOKENS[token] in ref.resolved:
                    continue  # the CLOB takes no orders in a resolved market
                if side is Side.SELL:
                    shares = min(shares, ref.shares[token])
                    if shares <= 0:
                        continue
                f, decision, intent = detection(token_id=token, condition_id=TOKENS[token],
                                                side=side, size=str(shares), price=str(price),
                                                at=DAY)
                store.record_detection(f, decision, intent)
                store.apply_result(intent.id, result(f"0x{next(orders)}", "matched",
                                                     str(shares), str(price)), now=DAY)
                ref.shares[token] += shares if side is Side.BUY else -shares
                ref.cash += -shares * price if side is Side.BUY else shares * price
            else:
                _, condition, yes_wins = step
                yes, no = MARKETS[condition]
                payouts = {yes: Decimal(int(yes_wins)), no: Decimal(int(not yes_wins))}
                first = condition not in ref.resolved
                assert (store.resolve(condition, payouts, source="gamma", now=DAY)
                        is not None) == first
                if first:
                    ref.resolved.add(condition)
                    for token, price in payouts.items():
                        ref.cash += ref.shares[token] * price
                        ref.owed += ref.shares[token] * price
            check(store, ref)
        for condition in sorted(set(MARKETS) - ref.resolved):
            yes, no = MARKETS[condition]
            store.resolve(condition, {yes: Decimal(1), no: Decimal(0)}, source="chain", now=DAY)
            ref.resolved.add(condition)
            ref.cash += ref.shares[yes]
            ref.owed += ref.shares[yes]
        # everything resolved: realized P&L is exactly the cash that went in and out
        assert store.positions() == []
        assert store.daily_pnl(utc_day(DAY)) == ref.cash
        assert sum((r.expected for r in store.redeemable()), Decimal(0)) == ref.owed
        assert store.integrity_check() == []


def check(store: Store, ref: Reference) -> None:
    held = {p.token_id: p for p in store.positions()}
    assert set(held) == ref.open_tokens()
    for token in ref.open_tokens():
        assert held[token].size == ref.shares[token]
    assert store.open_positions() == len(ref.open_tokens())
    # open positions marked at 0: the day's P&L is then exactly the cash in minus the cash out
    marked = {token: Decimal(0) for token in held}
    assert abs(store.daily_pnl(utc_day(DAY), marked) - ref.cash) <= EPSILON
    gate = open_positions(PolicyContext(now=DAY, open_positions=store.open_positions()),
                          Limits(max_position_usdc=Decimal(100),
                                 max_daily_loss_usdc=Decimal(100), max_open_positions=LIMIT))
    assert (gate is not None and gate.reason == reasons.MAX_OPEN_POSITIONS) == (
        len(ref.open_tokens()) >= LIMIT)
