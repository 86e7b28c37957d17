"""`polymarket-bot doctor`: is this wallet, on this host, ready to trade and redeem for real?

Read-only. Each check says what is wrong and exactly what to do. The same checks run at `run`
start in live mode (a failing one refuses to start) and in the deploy pre-flight. In paper mode
they are reported for information and never fail: nothing on chain is needed to paper-trade.

Checks: the signature type fits the wallet (an EOA has no contract code; a proxy, Safe or deposit
wallet is a contract at FUNDER_ADDRESS); pUSD in the funding wallet; POL for gas where our own key
sends transactions (EOA); every approval trading and redeeming need (`contracts.APPROVALS`);
Polymarket's geoblock answer for this host (blocked: no live mode; close-only: exits only).
"""

from __future__ import annotations

import argparse
import json
import urllib.request
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from polymarket_bot.config import Settings
from polymarket_bot.config.check import say
from polymarket_bot.config.settings import SIGNATURE_TYPES
from polymarket_bot.execution.wallet import ChainWallet

MIN_POL = Decimal("0.05")  # ~100 approvals or redemptions at Polygon's usual gas prices
FAIL, WARN, OK = "fail", "warn", "ok"
# failing these at `run` start only warns: exits and redemptions may be due with no pUSD left,
# and a flaky RPC must not keep the bot from exiting positions
WARN_AT_START = frozenset({"pUSD", "POL for gas", "chain"})


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, warn, fail
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Geoblock:
    blocked: bool
    close_only: bool
    country: str
    region: str
    ip: str


def geoblock(url: str, timeout: float = 5.0) -> Geoblock:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        body: dict[str, Any] = json.loads(answer.read(65536))
    close_only = body.get("close_only", body.get("closeOnly", False))
    return Geoblock(bool(body.get("blocked", False)), bool(close_only),
                    str(body.get("country", "?")), str(body.get("region", "")),
                    str(body.get("ip", "?")))


def run_checks(settings: Settings, wallet: ChainWallet | None = None) -> list[Check]:
    checks: list[Check] = [_geoblock(settings)]
    try:
        wallet = wallet or ChainWallet(str(settings.POLYGON_RPC_URL), settings.PRIVATE_KEY,
                                       settings.CHAIN_ID)
        checks += _wallet_checks(settings, wallet)
    except Exception as exc:  # the RPC is down or answers nonsense: say so, do not crash
        checks.append(Check("chain", FAIL, f"cannot read the wallet on chain: "
                            f"{type(exc).__name__}",
                            "check POLYGON_RPC_URL (`polymarket-bot connectivity`)"))
    return checks


def _geoblock(settings: Settings) -> Check:
    try:
        answer = geoblock(str(settings.GEOBLOCK_URL))
    except Exception as exc:
        return Check("geoblock", FAIL, f"no answer from {settings.GEOBLOCK_URL}: "
                     f"{type(exc).__name__}", "check the host's outbound HTTPS, then retry")
    where = f"{answer.country}{'-' + answer.region if answer.region else ''} (IP {answer.ip})"
    if answer.blocked:
        return Check("geoblock", FAIL, f"Polymarket blocks trading from {where}: live mode "
                     "refused", "run the bot in an allowed region (the docs name eu-west-1 "
                     "as the closest to Polymarket; London/eu-west-2 is restricted)")
    if answer.close_only:
        return Check("geoblock", WARN, f"{where} is close-only: the bot runs exits and "
                     "redemptions, no new positions", "move to an allowed region to copy buys")
    return Check("geoblock", OK, f"trading allowed from {where}")


def _wallet_checks(settings: Settings, wallet: ChainWallet) -> list[Check]:
    kind = SIGNATURE_TYPES[settings.SIGNATURE_TYPE]
    funder = settings.funder
    eoa = settings.SIGNATURE_TYPE == 0
    checks = []
    is_contract = wallet.has_code(funder)
    if eoa and is_contract:
        checks.append(Check("signature type", FAIL, f"SIGNATURE_TYPE=0 (EOA) but {funder} is a "
                            "contract", "set SIGNATURE_TYPE to 1 (proxy), 2 (Safe) or 3 (deposit "
                            "wallet) and FUNDER_ADDRESS to that wallet"))
    elif not eoa and not is_contract:
        checks.append(Check("signature type", FAIL, f"SIGNATURE_TYPE={settings.SIGNATURE_TYPE} "
                            f"({kind}) but FUNDER_ADDRESS {funder} has no contract on this chain",
                            "set FUNDER_ADDRESS to the wallet shown on your polymarket.com "
                            "profile, or SIGNATURE_TYPE=0 if the key's own address holds the "
                            "funds"))
    else:
        checks.append(Check("signature type", OK, f"{kind}: funds in {funder}, orders signed by "
                            f"{settings.wallet_address}"))
    pusd = wallet.pusd_balance(funder)
    checks.append(Check("pUSD", OK if pusd > 0 else FAIL, f"{pusd} pUSD in {funder}",
                        "" if pusd > 0 else f"deposit pUSD to {funder}"))
    if eoa:
        pol = wallet.pol_balance(wallet.address)
        checks.append(Check("POL for gas", OK if pol >= MIN_POL else FAIL,
                            f"{pol} POL in {wallet.address} (approvals and redemptions pay gas)",
                            "" if pol >= MIN_POL else f"send at least {MIN_POL} POL to "
                            f"{wallet.address}"))
    missing = wallet.missing_approvals(funder)
    for approval in missing:
        fix = ("run `polymarket-bot approve` (shows each transaction, then sends it)" if eoa
               else "open polymarket.com with this wallet and finish its trading setup "
               "(Polymarket's relayer grants the approvals of proxy/Safe/deposit wallets)")
        checks.append(Check("approval", FAIL, f"missing: {approval.label}", fix))
    if not missing:
        checks.append(Check("approvals", OK, "every trading and redeeming approval is granted"))
    return checks


def live_blockers(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]


def close_only(checks: list[Check]) -> bool:
    return any(c.name == "geoblock" and c.status == WARN for c in checks)


def report(checks: list[Check], out: Any = None) -> None:
    icons = {OK: "✅", WARN: "⚠️", FAIL: "❌"}
    for check in checks:
        say(f"{icons[check.status]} {check.name}: {check.message}", out)
        if check.fix:
            say(f"   → {check.fix}", out)


def command(settings: Settings, args: argparse.Namespace) -> int:
    checks = run_checks(settings)
    if args.json:
        print(json.dumps([asdict(c) for c in checks]))
    else:
        report(checks)
    failed = live_blockers(checks)
    if not settings.is_live:
        say(f"paper mode: {'these would block live trading' if failed else 'ready for live'}; "
            "nothing on chain is needed to paper-trade")
        return 0
    return 1 if failed else 0
