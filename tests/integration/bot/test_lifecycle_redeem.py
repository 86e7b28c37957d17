"""A position through its market's resolution in live mode: closed at its payout, redeemed on
chain through the right collateral adapter, exactly once even when killed mid-redemption."""

from __future__ import annotations

from decimal import Decimal

from harness import BotRun, target
from lifecycle_helpers import (
    market,
    pusd,
    redemption_status,
    resolve,
    sent_transactions,
    state,
    wallet,
)

from polymarket_bot.execution.contracts import APPROVALS
from polymarket_bot.state import utc_day


def _copied_position(bot: BotRun, slug: str, outcome: str, price: float) -> Decimal:
    bot.trade(target(0), slug, outcome, "BUY", 100, price)
    bot.wait_until(lambda: len(bot.our_matches()) >= 1, what="the copy")
    condition, _ = market(bot, slug)

    def held() -> Decimal:
        with state(bot) as store:
            return sum((p.size for p in store.positions() if p.condition_id == condition),
                       Decimal(0))

    bot.wait_until(lambda: held() > 0, what="the position on our books")
    return held()


def test_sigkill_after_the_redeem_is_sent_then_restart_redeems_once(bot: BotRun) -> None:
    bot.env["RESOLUTION_INTERVAL_SECONDS"] = "0.3"
    bot.start(crash_at="redeem_sent")
    shares = _copied_position(bot, "fed-cut", "Yes", 0.618)  # neg-risk: its own adapter
    condition, _ = market(bot, "fed-cut")
    before, txs = pusd(bot), sent_transactions(bot)
    resolve(bot, "fed-cut", "Yes")
    bot.wait_until(lambda: bot.proc.poll() is not None, what="the crash after sending")
    assert bot.proc.returncode == -9, bot.log_text()[-3000:]
    assert redemption_status(bot, condition) == "signed"

    bot.start()
    bot.wait_until(lambda: redemption_status(bot, condition) == "done", what="the settlement")
    bot.stop()
    assert sent_transactions(bot) == txs + 1  # the one redeem transaction, never a second
    assert pusd(bot) == before + shares
    with state(bot) as store:
        [closed] = store.resolved_positions()
        assert (closed.shares, closed.payout) == (shares, shares)
        assert store.redemption(condition).payout == shares
        assert store.daily_pnl(utc_day(closed.resolved_at)) == closed.pnl  # booked once
        assert store.positions() == [] and store.open_positions() == 0
    log = bot.log_text()
    assert "was signed before a restart; settling it" in log


def test_a_lost_market_closes_the_position_and_sends_nothing(bot: BotRun) -> None:
    bot.env["RESOLUTION_INTERVAL_SECONDS"] = "0.3"
    bot.start()
    _copied_position(bot, "rain", "Yes", 0.53)
    condition, _ = market(bot, "rain")
    txs = sent_transactions(bot)
    resolve(bot, "rain", "No")

    def closed() -> bool:
        with state(bot) as store:
            return store.is_resolved(condition) and store.open_positions() == 0

    bot.wait_until(closed, what="the resolution on our books")
    bot.stop()
    assert sent_transactions(bot) == txs
    assert redemption_status(bot, condition) is None


def test_re_sending_the_same_signed_transaction_is_not_an_error(bot: BotRun) -> None:
    # a restart re-sends the stored bytes of a redemption the node may already hold
    chain = wallet(bot)
    bot.wait_until(lambda: chain.pol_balance(chain.address) > 0, what="the funding block")
    approval = chain.missing_approvals(chain.address) or list(APPROVALS)
    signed = chain.sign(chain.approval_call(approval[0]), chain.next_nonce())
    chain.send(signed)
    chain.send(signed)  # "already known" (pending) or "nonce too low" (mined): same tx
    assert chain.wait(signed.tx_hash)["status"] == 1
    chain.send(signed)
    assert chain.mined_nonce() == signed.nonce + 1
