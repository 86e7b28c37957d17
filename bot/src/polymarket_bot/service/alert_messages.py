"""Alert texts: plain text (no parse_mode), so an address with `_` or `*` can never break one.

Each builder returns (kind, text, severity). The first line is the headline; coalesced summaries
list one line per alert built from the rest (`one_line`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from polymarket_bot.service import numbers

Severity = Literal["critical", "high", "medium", "low"]
Built = tuple[str, str, Severity]

LINE_CHARS = 76  # one line per alert in a summary: ~50 of them fit one Telegram message


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address


def one_line(text: str) -> str:
    """The alert's body on one line (its headline dropped when there is a body)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = " · ".join(lines[1:]) if len(lines) > 1 else (lines[0] if lines else "")
    return body if len(body) <= LINE_CHARS else body[: LINE_CHARS - 1] + "…"


def startup(mode: str, network: str, targets: int, version: str = "") -> Built:
    icon = "🚨" if mode == "live" else "🟢"
    text = (f"{icon} BOT STARTED{' ' + version if version else ''}\n"
            f"mode {mode} · network {network} · {targets} target wallet(s)")
    return "startup", text, "medium"


def trade_executed(*, side: str, size: Decimal | str, price: Decimal | str | None,
                   market: str, wallet: str, label: str | None = None,
                   status: str = "matched") -> Built:
    source = f"{label} ({short(wallet)})" if label else short(wallet)
    text = (f"✅ TRADE EXECUTED\n{side} {numbers.shares(size)} @ {numbers.price(price)} {market}\n"
            f"from {source} · {status}")
    return "trade", text, "medium"


def skipped_summary(counts: Mapping[str, int], window_s: float) -> Built:
    total = sum(counts.values())
    reasons = ", ".join(f"{reason} {n}" for reason, n in
                        sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    text = f"⏭ SKIPPED {total} trade(s) in the last {window_s / 60:.0f} min\n{reasons}"
    return "skipped", text, "medium"


def error(what: str, detail: str, severity: Severity = "high") -> Built:
    return "error", f"❌ ERROR: {what}\n{detail}", severity


def order_error(*, side: str, size: Decimal | str, market: str, error_text: str) -> Built:
    text = f"❌ ORDER FAILED\n{side} {numbers.shares(size)} {market}\n{error_text}"
    return "order_error", text, "high"


def order_delayed(*, side: str, size: Decimal | str, market: str, error_text: str,
                  until: str) -> Built:
    """Not a failure: the bot still holds the order and posts it again until `until`."""
    text = (f"⏳ ORDER DELAYED\n{side} {numbers.shares(size)} {market}\n{error_text}\n"
            f"the bot keeps trying until {until}; an ORDER FAILED alert follows only if it "
            f"gives up. Do not place it by hand.")
    return "order_delayed", text, "high"


def risk_limit(limit: str, value: Decimal | str | None) -> Built:
    text = (f"⚠️ RISK LIMIT HIT: {limit}\nvalue {numbers.usd(value)} pUSD · no new positions "
            f"until it clears (exits continue)")
    return "risk_limit", text, "high"


def circuit_breaker(errors: int) -> Built:
    text = (f"🛑 CIRCUIT BREAKER OPEN\n{errors} consecutive order errors: trading paused "
            f"for the cooldown")
    return "circuit_breaker", text, "critical"


def daily_pnl(day: str, pnl: Decimal | str, realized: Decimal | str, trades: int,
              positions: int) -> Built:
    text = (f"📊 DAILY P&L {day}\ntotal {numbers.usd(pnl)} pUSD · realized "
            f"{numbers.usd(realized)} · {trades} trade(s) · {positions} open position(s)")
    return "daily_pnl", text, "medium"


def operator(text: str, severity: Severity = "medium") -> Built:
    """An event sent by an operator or a playbook (DEPLOYED, ROLLBACK COMPLETED…)."""
    icon = {"critical": "🚨", "high": "⚠️", "medium": "📣", "low": "📣"}[severity]
    return "operator", f"{icon} {text.strip()}", severity


def market_resolved(market: str, outcome: str, shares: Decimal, payout: Decimal,
                    pnl: Decimal) -> Built:
    result = "won" if payout > 0 else "lost"
    text = (f"🏁 MARKET RESOLVED\n{market} — {outcome} {result}\n{numbers.shares(shares)} sh → "
            f"{numbers.usd(payout)} pUSD · P&L {numbers.usd(pnl)}")
    return "resolved", text, "medium"


def redeemed(market: str, outcome: str, shares: Decimal, payout: Decimal) -> Built:
    text = (f"💵 REDEEMED\n{market} — {outcome}\n{numbers.shares(shares)} sh → "
            f"{numbers.usd(payout)} pUSD")
    return "redeemed", text, "medium"


def redeem_problem(market: str, status: str, expected: Decimal, detail: str) -> Built:
    headline = "✋ REDEEM BY HAND" if status == "manual" else "❌ REDEEM FAILED"
    text = f"{headline}\n{market}: {numbers.usd(expected)} pUSD waiting\n{detail}"
    return "redeem_failed", text, "high"
