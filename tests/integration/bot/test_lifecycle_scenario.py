"""A compressed run of several market days in live mode: buys, a partial exit, a restart,
markets resolving both ways (one a neg-risk event), redemptions. At the end nothing is open, every
winning share was redeemed once, and the wallet's pUSD on the simulated chain is its start plus
the realized P&L of our books, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from harness import BotRun, target
from lifecycle_helpers import market, pusd, redemption_status, resolve, state

from polymarket_bot.state.ledger import ZERO


def realized_total(bot: BotRun) -> Decimal:
    with state(bot) as store:
        return sum((Decimal(r["realized"]) for r in store._read(
            "SELECT realized FROM daily_pnl")), ZERO)


def open_positions(bot: BotRun) -> int:
    with state(bot) as store:
        return store.open_positions()


@pytest.mark.timeout(600)  # two bot starts and five markets' worth of blocks on a shared CI box
def test_markets_resolve_both_ways_and_the_books_match_the_chain(bot: BotRun) -> None:
    bot.env |= {"RESOLUTION_INTERVAL_SECONDS": "0.3", "MAX_OPEN_POSITIONS": "2"}
    whale, other = target(0), target(1)
    bot.start()
    bot.wait_until(lambda: pusd(bot) > 0, what="the funding block")
    start = pusd(bot)
    # day 1: two copies fill the open-position gate; a third market is refused
    bot.trade(whale, "rain", "Yes", "BUY", 100, 0.53)
    bot.trade(whale, "lakers-celtics", "Lakers", "BUY", 100, 0.42)
    bot.wait_until(lambda: len(bot.our_matches()) >= 2, what="two copies")
    bot.wait_until(lambda: open_positions(bot) == 2, what="two positions booked")
    bot.trade(other, "fed-cut", "Yes", "BUY", 100, 0.618)
    bot.wait_until(lambda: "reason=max_open_positions" in bot.log_text(), what="the gate")
    # day 2: the whale takes half off the Lakers before the game; we follow; then a restart
    bot.trade(whale, "lakers-celtics", "Lakers", "SELL", 50, 0.40)
    bot.wait_until(lambda: len(bot.our_matches()) >= 3, what="the partial exit")
    bot.stop()
    bot.start()
    # day 3: both markets resolve, one lost, one won
    rain, _ = market(bot, "rain")
    lakers, _ = market(bot, "lakers-celtics")
    resolve(bot, "rain", "No")
    resolve(bot, "lakers-celtics", "Lakers")
    bot.wait_until(lambda: redemption_status(bot, lakers) == "done", what="the Lakers redeem")
    bot.wait_until(lambda: open_positions(bot) == 0, what="both slots freed")
    # day 4: the freed gate copies again; the neg-risk event resolves Yes
    bot.trade(other, "fed-cut", "Yes", "BUY", 100, 0.618)
    bot.wait_until(lambda: len(bot.our_matches()) >= 4, what="the copy after the gate freed")
    fed, _ = market(bot, "fed-cut")
    bot.wait_until(lambda: open_positions(bot) == 1, what="the fed-cut position")
    resolve(bot, "fed-cut", "Yes")
    bot.wait_until(lambda: redemption_status(bot, fed) == "done", what="the neg-risk redeem")
    bot.stop()

    with state(bot) as store:
        assert store.positions() == [] and store.open_positions() == 0
        resolved = {r.condition_id: r for r in store.resolved_positions()}
        assert set(resolved) == {rain, lakers, fed}
        assert resolved[rain].payout == 0 and redemption_status(bot, rain) is None
        for condition in (lakers, fed):
            done = store.redemption(condition)
            assert done.payout == resolved[condition].shares  # every winning share, once
        assert store.redeemable() == []
        assert len([r for r in store.redemptions() if r.status == "done"]) == 2
        assert store.integrity_check() == []
    assert abs(pusd(bot) - (start + realized_total(bot))) < Decimal("0.01")
