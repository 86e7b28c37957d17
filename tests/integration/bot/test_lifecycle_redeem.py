"""A position through its market's resolution in live mode: closed at its payout, redeemed on
chain through the right collateral adapter, exactly once even when killed mid-redemption."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from harness import BotRun, target
from lifecycle_helpers import (
    book_position,
    market,
    pusd,
    redemption_status,
    resolve,
    sent_transactions,
    state,
    wallet,
)
from pydantic import SecretStr

from polymarket_bot.execution.contracts import APPROVALS, CONDITIONAL_TOKENS, PUSD, ZERO32
from polymarket_bot.execution.redeem import Redeemer
from polymarket_bot.execution.wallet import ChainWallet
from polymarket_bot.state import Store, utc_day

# Hardhat's public test key #1 (obviously fake): a second wallet beside the bot's
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
OTHER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


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


@pytest.mark.timeout(300)  # two bot starts with the live doctor, on a shared CI box
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


@pytest.mark.timeout(300)
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


class TrapWallet(ChainWallet):
    """The redemption the bot must never trust: the CTF itself with pUSD as collateral (what
    the old bots do). It succeeds on chain and pays nothing."""

    def redeem_call(self, condition_id: str, neg_risk: bool) -> dict:
        ctf = self.w3.eth.contract(address=CONDITIONAL_TOKENS, abi=TRAP_ABI)
        fn = ctf.functions.redeemPositions(PUSD, ZERO32, bytes.fromhex(condition_id[2:]), [1, 2])
        return {"to": fn.address, "data": fn._encode_transaction_data()}


TRAP_ABI = [{"type": "function", "name": "redeemPositions", "stateMutability": "nonpayable",
             "inputs": [{"name": "", "type": "address"}, {"name": "", "type": "bytes32"},
                        {"name": "", "type": "bytes32"}, {"name": "", "type": "uint256[]"}],
             "outputs": []}]


def test_a_zero_payout_for_winning_tokens_is_a_failure_never_success(
        bot: BotRun, tmp_path: Path) -> None:
    condition, tokens = market(bot, "rain")
    httpx.post(f"{bot.admin}/fund", json={"address": OTHER_ADDRESS, "collateral": 1, "pol": 1,
                                          "shares": {tokens[0]: 7}}).raise_for_status()
    trap = TrapWallet(bot.sim.urls["rpc"], SecretStr(OTHER_KEY), 137)
    bot.wait_until(lambda: trap.token_balance(OTHER_ADDRESS, tokens[0]) == 7, what="funding")
    resolve(bot, "rain", "Yes")
    with Store(tmp_path / "trap.db") as store:
        book_position(store, tokens[0], condition, Decimal(7), Decimal("0.5"))
        store.resolve(condition, {tokens[0]: Decimal(1), tokens[1]: Decimal(0)}, source="gamma")
        [outcome] = Redeemer(store, live=True, wallet=trap).redeem_all()
        assert (outcome.status, outcome.payout, outcome.expected) == ("failed", 0, 7)
        assert "paid 0 pUSD, expected 7" in outcome.detail
        assert store.redemption(condition).status == "failed"
        assert store.redeemable()[0].expected == 7  # still owed: `redeem` can retry it
    assert trap.token_balance(OTHER_ADDRESS, tokens[0]) == 7  # nothing was burned


def test_a_proxy_wallet_is_told_to_claim_by_hand_and_booked_once_the_tokens_are_gone(
        bot: BotRun, tmp_path: Path) -> None:
    condition, tokens = market(bot, "lakers-celtics")
    httpx.post(f"{bot.admin}/fund", json={"address": OTHER_ADDRESS, "collateral": 1, "pol": 1,
                                          "shares": {tokens[1]: 4}}).raise_for_status()
    holder = ChainWallet(bot.sim.urls["rpc"], SecretStr(OTHER_KEY), 137)
    bot.wait_until(lambda: holder.token_balance(OTHER_ADDRESS, tokens[1]) == 4, what="funding")
    resolve(bot, "lakers-celtics", "Celtics")
    with Store(tmp_path / "proxy.db") as store:
        book_position(store, tokens[1], condition, Decimal(4), Decimal("0.6"))
        store.resolve(condition, {tokens[0]: Decimal(0), tokens[1]: Decimal(1)}, source="chain")
        # the funds sit in a proxy wallet (here: the holder's address); our key only reads
        redeemer = Redeemer(store, live=True, signature_type=1, funder=OTHER_ADDRESS,
                            wallet=wallet(bot))
        [first] = redeemer.redeem_all()
        assert first.status == "manual" and "Portfolio → Claim" in first.detail
        [again] = redeemer.redeem_all()
        assert again.status == "skipped"  # one alert, not one a minute
        # the operator claims it on polymarket.com (here: the holder redeems through the adapter)
        claim = holder.sign(holder.redeem_call(condition, False), holder.next_nonce())
        holder.send(claim)
        assert holder.wait(claim.tx_hash)["status"] == 1
        [done] = redeemer.redeem_all()
        assert (done.status, done.payout) == ("done", 4)
        assert store.redeemable() == [] and redeemer.redeem_all() == []
