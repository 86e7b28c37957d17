"""`doctor`, `approve` and `redeem`: the wallet's readiness, its approvals, its winnings.

`approve` and `redeem` move money or permissions, so they act only in live mode, only when asked,
and show what they will do first (`approve` prints each transaction and asks before sending;
`--yes` answers for scripts; `redeem --dry-run` sends nothing).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from polymarket_bot.commands.operator_cli import _parser
from polymarket_bot.config import Settings
from polymarket_bot.config.check import say
from polymarket_bot.state.store import DB_FILE, Store

# web3 is imported by the commands that use it, not at CLI start: `version` must stay quick


def _wallet(settings: Settings) -> Any:
    from polymarket_bot.execution.wallet import ChainWallet

    return ChainWallet(str(settings.POLYGON_RPC_URL), settings.PRIVATE_KEY, settings.CHAIN_ID)


def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from polymarket_bot.commands import doctor

    return doctor.command(settings, args)


def _approve(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.is_live:
        say("approve grants real on-chain approvals: set TRADING_MODE=live first", sys.stderr)
        return 2
    if settings.SIGNATURE_TYPE != 0:
        say(f"SIGNATURE_TYPE={settings.SIGNATURE_TYPE}: this wallet's approvals are granted by "
            "Polymarket's relayer; open polymarket.com with it and finish its trading setup",
            sys.stderr)
        return 2
    from polymarket_bot.execution.contracts import NAMES
    from polymarket_bot.execution.wallet import GasTooHigh

    wallet = _wallet(settings)
    missing = wallet.missing_approvals(wallet.address)
    if not missing:
        say("✅ every approval is already granted: nothing to send")
        return 0
    nonce = wallet.next_nonce()
    for approval in missing:
        call = wallet.approval_call(approval)
        say(f"→ {approval.label}\n  to {call['to']} ({NAMES.get(call['to'], 'pUSD/CTF')})\n"
            f"  data {call['data']}\n  from {wallet.address}, nonce {nonce}")
        if not args.yes and input("  send it? [y/N] ").strip().lower() not in ("y", "yes"):
            say("stopped: nothing more sent")
            return 1
        try:
            signed = wallet.sign(call, nonce)
        except GasTooHigh as exc:
            say(f"❌ {exc}", sys.stderr)
            return 1
        wallet.send(signed)
        receipt = wallet.wait(signed.tx_hash)
        if receipt["status"] != 1:
            say(f"❌ {signed.tx_hash} reverted", sys.stderr)
            return 1
        say(f"  ✅ mined {signed.tx_hash}")
        nonce += 1
    still = wallet.missing_approvals(wallet.address)
    for approval in still:
        say(f"❌ still missing: {approval.label}", sys.stderr)
    return 1 if still else 0


def _redeem(settings: Settings, args: argparse.Namespace) -> int:
    from polymarket_bot.execution.redeem import Redeemer

    live = settings.is_live
    wallet = _wallet(settings) if live else None
    with Store(settings.STATE_DIR / DB_FILE) as store:
        redeemer = Redeemer(store, live=live, signature_type=settings.SIGNATURE_TYPE,
                            funder=settings.funder, wallet=wallet)
        if not redeemer.pending(retry_failed=True):
            say("nothing to redeem")
            return 0
        outcomes = redeemer.redeem_all(dry_run=args.dry_run, retry_failed=True)
    bad = 0
    for outcome in outcomes:
        icon = {"done": "✅", "skipped": "·", "manual": "✋"}.get(outcome.status, "❌")
        paid = f" paid {outcome.payout}" if outcome.payout is not None else ""
        say(f"{icon} {outcome.condition_id}: {outcome.status}, expected {outcome.expected} "
            f"pUSD{paid} {outcome.tx_hash or ''} {outcome.detail}".rstrip())
        bad += outcome.status in ("failed", "manual")
    return 1 if bad else 0


def register(sub: Any) -> None:
    _parser(sub, "doctor", "is the wallet ready for live trading: signature type, pUSD, POL, "
            "every approval, geoblock (exit 1 in live mode if not)", _doctor,
            json_flag=True)
    approve = _parser(sub, "approve", "grant the missing trading and redeeming approvals (live "
                      "mode, EOA; shows each transaction first)", _approve)
    approve.add_argument("--yes", action="store_true", help="send without asking")
    redeem = _parser(sub, "redeem", "redeem resolved markets' winning tokens for pUSD (paper "
                     "mode books them in the paper balance)", _redeem)
    redeem.add_argument("--dry-run", action="store_true", help="say what would be redeemed")
