"""Alert texts: plain text (no parse_mode), so an address with `_` or `*` can never break one.

Each builder returns (kind, text, severity). The first line is the headline; coalesced summaries
list one line per alert built from the rest (`one_line`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

Severity = Literal["critical", "high", "medium", "low"]
Built = tuple[str, str, Severity]

LINE_CHARS = 76  # one line per alert in a summary: ~50 of them fit one Telegram message


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 14 else address


def _num(value: Decimal | float | str | None) -> str:
    if value is None:
        return "?"
    text = f"{Decimal(str(value)).normalize():f}"
    return text


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
    text = (f"✅ TRADE EXECUTED\n{side} {_num(size)} @ {_num(price)} {market}\n"
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
    text = f"❌ ORDER FAILED\n{side} {_num(size)} {market}\n{error_text}"
    return "order_error", text, "high"


def order_delayed(*, side: str, size: Decimal | str, market: str, error_text: str,
                  until: str) -> Built:
    """Not a failure: the bot still holds the order and posts it again until `until`."""
    text = (f"⏳ ORDER DELAYED\n{side} {_num(size)} {market}\n{error_text}\n"
            f"the bot keeps trying until {until}; an ORDER FAILED alert follows only if it "
            f"gives up. Do not place it by hand.")
    return "order_delayed", text, "high"


def risk_limit(limit: str, value: Decimal | str | None) -> Built:
    text = (f"⚠️ RISK LIMIT HIT: {limit}\nvalue {_num(value)} · no new positions until it "
            f"clears (exits continue)")
    return "risk_limit", text, "high"


def circuit_breaker(errors: int) -> Built:
    text = (f"🛑 CIRCUIT BREAKER OPEN\n{errors} consecutive order errors: trading paused "
            f"for the cooldown")
    return "circuit_breaker", text, "critical"


def daily_pnl(day: str, pnl: Decimal | str, realized: Decimal | str, trades: int,
              positions: int) -> Built:
    text = (f"📊 DAILY P&L {day}\ntotal {_num(pnl)} pUSD · realized {_num(realized)} · "
            f"{trades} trade(s) · {positions} open position(s)")
    return "daily_pnl", text, "medium"


def operator(text: str, severity: Severity = "medium") -> Built:
    """An event sent by an operator or a playbook (DEPLOYED, ROLLBACK COMPLETED…)."""
    icon = {"critical": "🚨", "high": "⚠️", "medium": "📣", "low": "📣"}[severity]
    return "operator", f"{icon} {text.strip()}", severity
