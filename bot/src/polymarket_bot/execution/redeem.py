"""Redeeming winning tokens for pUSD, exactly once, by the route the wallet type allows.

- paper mode: the payout goes back into the paper balance (no chain).
- EOA (SIGNATURE_TYPE 0): our own transaction to the market's collateral adapter (standard or
  neg-risk), gas-capped, with a nonce we keep. The signed bytes and nonce are committed before
  they are sent; after a crash the SAME bytes are looked up and re-sent, never a second signing,
  so the chain can mine at most one redemption. The payout is read from the receipt's pUSD
  transfers and compared with what the tokens must pay: a winning redemption that paid nothing
  (the CTF trap) is an alert and a failure, never a success.
- proxy, Safe and deposit wallets (1, 2, 3) redeem through Polymarket's relayer, which needs
  relayer or builder credentials and a client library we do not ship (Polymarket's own Python
  client does not install next to web3 8; the third-party relayer ports are not maintained
  enough to move money with). The bot marks the market "manual" and alerts with the steps.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from decimal import Decimal

from polymarket_bot.execution.contracts import NAMES, redeem_adapter
from polymarket_bot.execution.wallet import ChainWallet, GasTooHigh, SignedTx
from polymarket_bot.state.resolution import DONE, FAILED, MANUAL, SIGNED, Redeemable
from polymarket_bot.state.store import Store

log = logging.getLogger(__name__)
TOLERANCE = Decimal("0.000001")  # one base unit of pUSD per token redeemed
WALLET_NAMES = {1: "proxy (POLY_PROXY)", 2: "Safe (POLY_GNOSIS_SAFE)", 3: "deposit (POLY_1271)"}


def crash_point(step: str) -> None:
    """Test hook for the crash tests (see engine.crash_point); never set in production."""
    if os.environ.get("POLYMARKET_BOT_CRASH_AT") == step:
        log.warning("crash test: killing the bot at %s", step)
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Outcome:
    condition_id: str
    status: str  # done, failed, manual (newly), skipped (dry run, postponed, still waiting)
    expected: Decimal
    winner: str = ""  # the winning token we held
    shares: Decimal = Decimal(0)  # winning shares redeemed
    payout: Decimal | None = None
    tx_hash: str | None = None
    detail: str = ""


class Redeemer:
    def __init__(self, store: Store, *, live: bool, signature_type: int = 0,
                 funder: str | None = None, wallet: ChainWallet | None = None) -> None:
        if live and signature_type == 0 and wallet is None:
            raise ValueError("an EOA redeems with its own transactions: a ChainWallet is needed")
        self.store = store
        self.live = live
        self.signature_type = signature_type
        self.wallet = wallet
        self.owner = funder or (wallet.address if wallet else "")

    def pending(self, *, retry_failed: bool = False) -> list[Redeemable]:
        """What to redeem now. Failed ones wait for an operator (`redeem`), so a broken route
        does not alert every minute; manual ones are watched until the tokens are gone."""
        stuck = () if retry_failed else (FAILED,)
        return [r for r in self.store.redeemable()
                if r.redemption is None or r.redemption.status not in stuck]

    def redeem_all(self, *, dry_run: bool = False, retry_failed: bool = False) -> list[Outcome]:
        return [self.redeem(r, dry_run=dry_run) for r in self.pending(retry_failed=retry_failed)]

    def redeem(self, item: Redeemable, *, dry_run: bool = False) -> Outcome:
        route = self._route()
        if dry_run:
            where = (f"a transaction to the {NAMES[redeem_adapter(item.neg_risk)]}"
                     if route == "eoa" else route)
            return _outcome(item, "skipped", item.expected, detail=f"would redeem via {where}")
        if route == "paper":
            self.store.begin_redemption(item.condition_id, "paper", item.expected)
            return self._finish(item, DONE, item.expected, None, "paper mode")
        if route != "eoa":
            return self._manual(item)
        try:
            return self._redeem_eoa(item)
        except GasTooHigh as exc:
            log.warning("redeem %s postponed: %s", item.condition_id, exc)
            return _outcome(item, "skipped", item.expected, detail=str(exc))

    def _route(self) -> str:
        if not self.live:
            return "paper"
        return "eoa" if self.signature_type == 0 else WALLET_NAMES[self.signature_type]

    def _redeem_eoa(self, item: Redeemable) -> Outcome:
        wallet = self.wallet
        assert wallet is not None
        redemption = item.redemption
        if redemption is not None and redemption.status == SIGNED:
            # a previous process signed (and maybe sent) it: settle THAT transaction
            signed = SignedTx(redemption.tx_hash or "", redemption.raw_tx or "",
                              redemption.nonce or 0)
            log.info("redeem %s: transaction %s was signed before a restart; settling it",
                     item.condition_id, signed.tx_hash)
            return self._settle(item, signed)
        held = sum((wallet.token_balance(self.owner, token) * item.payouts.get(token, Decimal(0))
                    for token in item.shares), Decimal(0))
        if held <= 0:
            return self._finish(item, FAILED, Decimal(0), None,
                                "no winning tokens of this market in the wallet (redeemed "
                                "elsewhere, or never settled): check the wallet on polygonscan")
        if not self.store.begin_redemption(item.condition_id, "eoa", held):
            return _outcome(item, "skipped", held, detail="already in progress")
        last = max((r.nonce for r in self.store.redemptions() if r.nonce is not None),
                   default=-1)
        signed = wallet.sign(wallet.redeem_call(item.condition_id, item.neg_risk),
                             wallet.next_nonce(at_least=last + 1))
        self.store.redemption_signed(item.condition_id, signed.tx_hash, signed.nonce,
                                     signed.raw)
        crash_point("redeem_signed")
        wallet.send(signed)
        log.info("redeem %s: sent %s (nonce %d) to the %s", item.condition_id, signed.tx_hash,
                 signed.nonce, NAMES[redeem_adapter(item.neg_risk)])
        crash_point("redeem_sent")
        return self._settle(item, signed)

    def _settle(self, item: Redeemable, signed: SignedTx) -> Outcome:
        wallet = self.wallet
        assert wallet is not None
        receipt = wallet.receipt(signed.tx_hash)
        if receipt is None:
            wallet.send(signed)  # the same bytes: mined once at most
            receipt = wallet.wait(signed.tx_hash)
        expected = self.store.redemption(item.condition_id).expected
        if receipt["status"] != 1:
            return self._finish(item, FAILED, Decimal(0), signed.tx_hash,
                                "the redeem transaction reverted: run `polymarket-bot doctor` "
                                "(the collateral adapter approvals)")
        paid = wallet.pusd_received(receipt, self.owner)
        if paid + TOLERANCE * len(item.shares) < expected:
            return self._finish(item, FAILED, paid, signed.tx_hash,
                                f"paid {paid} pUSD, expected {expected}: tokens not redeemed "
                                "(wrong collateral or adapter?)")
        return self._finish(item, DONE, paid, signed.tx_hash, "")

    def _manual(self, item: Redeemable) -> Outcome:
        flagged = item.redemption is not None and item.redemption.status == MANUAL
        if flagged and self.wallet is not None and not any(
                self.wallet.token_balance(self.owner, token) > 0 for token, price
                in item.payouts.items() if price > 0 and token in item.shares):
            # the operator claimed it on polymarket.com: the winning tokens are gone
            return self._finish(item, DONE, item.expected, None, "redeemed by hand")
        if flagged:
            return _outcome(item, "skipped", item.expected,
                            detail="waiting for the claim on polymarket.com")
        self.store.begin_redemption(item.condition_id, self._route(), item.expected)
        how = (f"this {self._route()} wallet redeems through Polymarket's relayer, which the bot "
               "does not drive: open polymarket.com with this wallet, Portfolio → Claim this "
               "market; the bot notices the tokens are gone and books it redeemed")
        return self._finish(item, MANUAL, None, None, how)

    def _finish(self, item: Redeemable, status: str, payout: Decimal | None,
                tx_hash: str | None, detail: str) -> Outcome:
        self.store.finish_redemption(item.condition_id, status, payout=payout,
                                     error=detail or None)
        expected = self.store.redemption(item.condition_id).expected
        if status == DONE:
            log.info("redeemed %s: %s pUSD (%s)", item.condition_id, payout, tx_hash or detail)
        else:
            log.error("redeem %s %s: %s", item.condition_id, status, detail)
        return _outcome(item, status, expected, payout=payout, tx_hash=tx_hash, detail=detail)


def _outcome(item: Redeemable, status: str, expected: Decimal, **kwargs: object) -> Outcome:
    winners = [t for t in item.shares if item.payouts.get(t, Decimal(0)) > 0]
    shares = sum((item.shares[t] for t in winners), Decimal(0))
    return Outcome(item.condition_id, status, expected, winners[0] if winners else "", shares,
                   **kwargs)  # type: ignore[arg-type]
