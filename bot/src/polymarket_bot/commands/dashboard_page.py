"""The dashboard's HTML: server-rendered, inline CSS and SVG, no script, no external resource.

Every number carries a `data-testid` (and the exact value in `data-value` where the text is
rounded), so a browser test can read what the trader sees. Every text is escaped: wallet labels
come from a config file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from html import escape
from typing import Any

REFRESH_SECONDS = 15
_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#0f172a;
color:#e2e8f0}main{max-width:1240px;margin:0 auto;padding:16px 20px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 8px;color:#94a3b8;
text-transform:uppercase;letter-spacing:.05em}.muted{color:#94a3b8;font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}
.card{background:#1e293b;border-radius:8px;padding:10px 14px}.card .k{color:#94a3b8;
font-size:12px}.card .v{font-size:22px;font-weight:600}.pos{color:#4ade80}.neg{color:#f87171}
table{width:100%;border-collapse:collapse;background:#1e293b;border-radius:8px;
overflow:hidden}th,td{padding:5px 8px;text-align:left;border-bottom:1px solid #334155;
font-size:13px}th{color:#94a3b8;font-weight:500}td.n{text-align:right;
font-variant-numeric:tabular-nums}.tag{padding:1px 7px;border-radius:9px;font-size:12px}
.copy{background:#14532d;color:#bbf7d0}.skip{background:#713f12;color:#fde68a}
.ok{background:#14532d;color:#bbf7d0}.degraded{background:#713f12;color:#fde68a}
.failing,.unreachable{background:#7f1d1d;color:#fecaca}svg{background:#1e293b;
border-radius:8px;width:100%;height:auto}.cols{display:grid;grid-template-columns:1fr 1fr;
gap:16px}@media(max-width:900px){.cols{grid-template-columns:1fr}}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _money(value: str | None, signed: bool = True) -> str:
    if value is None:
        return "—"
    amount = Decimal(value)
    return f"{amount:+,.2f}" if signed else f"{amount:,.2f}"


def _tone(value: str | None) -> str:
    if value is None or Decimal(value) == 0:
        return ""
    return "pos" if Decimal(value) > 0 else "neg"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M:%S")


def _card(label: str, testid: str, shown: str, value: Any, tone: str = "") -> str:
    return (f'<div class="card"><div class="k">{_e(label)}</div>'
            f'<div class="v {tone}" data-testid="{testid}" data-value="{_e(value)}">'
            f"{_e(shown)}</div></div>")


def _totals(t: dict[str, Any], hours: int) -> str:
    return '<div class="cards">' + "".join((
        _card("Today's P&L", "daily-pnl", _money(t["daily_pnl"]), t["daily_pnl"],
              _tone(t["daily_pnl"])),
        _card("Realized P&L", "realized-pnl", _money(t["realized_pnl"]), t["realized_pnl"],
              _tone(t["realized_pnl"])),
        _card("Unrealized P&L", "unrealized-pnl", _money(t["unrealized_pnl"]),
              t["unrealized_pnl"], _tone(t["unrealized_pnl"])),
        _card("Open positions", "open-positions-count", str(t["open_positions"]),
              t["open_positions"]),
        _card(f"Copies ({hours} h)", "copies-count", str(t["copies"]), t["copies"]),
        _card(f"Skips ({hours} h)", "skips-count", str(t["skips"]), t["skips"]),
        _card(f"Orders ok ({hours} h)", "orders-ok", str(t["orders_ok"]), t["orders_ok"]),
        _card(f"Orders failed ({hours} h)", "orders-failed", str(t["orders_failed"]),
              t["orders_failed"], "neg" if t["orders_failed"] else ""),
    )) + "</div>"


def _curve(points: list[list[float]]) -> str:
    """Cumulative P&L as an inline SVG polyline (scaled here, so the browser runs no code)."""
    width, height, pad = 1200, 220, 30
    if len(points) < 2:
        points = [[points[0][0] - 1, 0.0], *points] if points else [[0, 0.0], [1, 0.0]]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    lo, hi = min(*ys, 0.0), max(*ys, 0.0)
    hi = hi if hi > lo else lo + 1

    def sx(x: float) -> float:
        return pad + (x - x0) / (x1 - x0) * (width - 2 * pad)

    def sy(y: float) -> float:
        return height - pad - (y - lo) / (hi - lo) * (height - 2 * pad)

    line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    color = "#4ade80" if ys[-1] >= 0 else "#f87171"
    return (f'<svg data-testid="equity-curve" data-points="{len(points)}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="P&amp;L over time">'
            f'<line x1="{pad}" x2="{width - pad}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" '
            f'stroke="#475569" stroke-dasharray="4 4"/>'
            f'<text x="{pad}" y="18" fill="#94a3b8" font-size="12">high {hi:+.2f}</text>'
            f'<text x="{pad}" y="{height - 8}" fill="#94a3b8" font-size="12">low {lo:+.2f}'
            f'</text><text x="{width - pad}" y="18" fill="#94a3b8" font-size="12" '
            f'text-anchor="end">{_e(_when(x0))} → {_e(_when(x1))} UTC</text>'
            f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{line}"/></svg>')


def _positions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted" data-testid="no-positions">No open positions.</p>'
    body = "".join(
        f'<tr data-testid="position-row" data-token="{_e(p["token_id"])}" '
        f'data-size="{_e(p["size"])}"><td title="{_e(p["token_id"])}">{_market(p)}</td>'
        f'<td>{_e(p["outcome"] or "—")}</td><td class="n" data-testid="position-size">'
        f'{_e(p["size"])}</td><td class="n">{_e(p["avg_cost"] or "—")}</td>'
        f'<td class="n">{_e(p["mark"] or "—")}</td><td class="n {_tone(p["unrealized_pnl"])}" '
        f'data-testid="position-upnl">{_money(p["unrealized_pnl"])}</td></tr>' for p in rows)
    return ("<table><tr><th>Market</th><th>Outcome</th><th>Size</th><th>Avg cost</th>"
            f"<th>Mark</th><th>Unrealized</th></tr>{body}</table>")


def _market(row: dict[str, Any]) -> str:
    """The market's question; a token id only when the bot never learned the question."""
    if row.get("market"):
        return _e(row["market"])
    return f'token {_e(row["token_id"][:10])}…'


def _resolved(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted" data-testid="no-resolved">No resolved positions yet.</p>'
    body = "".join(
        f'<tr data-testid="resolved-row" data-token="{_e(r["token_id"])}" '
        f'data-redeemed="{_e(r["redeemed"])}"><td title="{_e(r["token_id"])}">{_market(r)}</td>'
        f'<td>{_e(r["outcome"] or "—")} ({_e(r["result"])})</td><td class="n">{_e(r["shares"])}'
        f'</td><td class="n">{_e(r["payout"])}</td><td class="n {_tone(r["pnl"])}">'
        f'{_money(r["pnl"])}</td><td>{_e(r["redeemed"])}</td></tr>' for r in rows)
    return ("<table><tr><th>Market</th><th>Outcome</th><th>Shares</th><th>Payout</th>"
            f"<th>P&amp;L</th><th>Redeemed</th></tr>{body}</table>")


def _decisions(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="muted">No decisions yet.</p>'
    body = "".join(
        f'<tr data-testid="decision-row" data-action="{_e(d["action"])}" '
        f'data-reason="{_e(d["reason"])}" data-wallet="{_e(d["wallet"])}" '
        f'data-size="{_e(d["size"])}"><td>{_e(_when(d["time"]))}</td>'
        f'<td title="{_e(d["wallet"])}">{_e(d["label"])}</td>'
        f'<td><span class="tag {_e(d["action"])}">{_e(d["action"])}</span></td>'
        f'<td>{_e(d["side"])}</td><td>{_e(d["outcome"] or "")}</td>'
        f'<td class="n">{_e(d["size"])}</td><td class="n">{_e(d["price"] or "—")}</td>'
        f'<td title="{_e(d["detail"])}">{_e(d["reason"])}</td>'
        f'<td>{_e(d["order"] or "")}</td></tr>' for d in rows)
    return ("<table><tr><th>Time (UTC)</th><th>Wallet</th><th>Action</th><th>Side</th>"
            "<th>Outcome</th><th>Size</th><th>Price</th><th>Reason</th><th>Order</th></tr>"
            f"{body}</table>")


def _targets(rows: list[dict[str, Any]], hours: int) -> str:
    body = "".join(
        f'<tr data-testid="target-row" data-wallet="{_e(t["wallet"])}" '
        f'data-copies="{t["copies"]}" data-skips="{t["skips"]}">'
        f'<td title="{_e(t["wallet"])}">{_e(t["label"])}</td>'
        f'<td class="n" data-testid="target-copies">{t["copies"]}</td>'
        f'<td class="n" data-testid="target-skips">{t["skips"]}</td>'
        f'<td class="n {_tone(t["realized_pnl"])}" data-testid="target-realized" '
        f'data-value="{_e(t["realized_pnl"])}">{_money(t["realized_pnl"])}</td></tr>'
        for t in rows)
    return (f"<table><tr><th>Target</th><th>Copies ({hours} h)</th><th>Skips ({hours} h)</th>"
            f"<th>Realized P&amp;L</th></tr>{body}</table>")


def _health(health: dict[str, Any] | None) -> str:
    if health is None:
        return ('<p><span class="tag unreachable" data-testid="health-status" '
                'data-value="unreachable">unreachable</span> <span class="muted">the bot\'s '
                "/health does not answer (stopped, or not the trader answering)</span></p>")
    status = str(health.get("status", "unknown"))
    comps = health.get("components") or {}
    body = "".join(
        f'<tr data-testid="health-component" data-name="{_e(name)}">'
        f'<td>{_e(name)}</td><td><span class="tag {_e(c.get("status"))}">'
        f'{_e(c.get("status"))}</span></td></tr>'
        for name, c in sorted(comps.items()) if isinstance(c, dict))
    return (f'<p><span class="tag {_e(status)}" data-testid="health-status" '
            f'data-value="{_e(status)}">{_e(status)}</span></p>'
            f"<table><tr><th>Component</th><th>Status</th></tr>{body}</table>")


def _reasons(reasons: dict[str, int]) -> str:
    if not reasons:
        return '<p class="muted">No skips.</p>'
    return "<table>" + "".join(
        f'<tr data-testid="skip-reason" data-reason="{_e(r)}"><td>{_e(r)}</td>'
        f'<td class="n">{n}</td></tr>' for r, n in sorted(reasons.items())) + "</table>"


def render(s: dict[str, Any]) -> str:
    hours = s["window_hours"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Polymarket bot</title><style>{_CSS}</style></head><body><main>"
        f'<h1>Polymarket copy bot</h1><p class="muted" data-testid="generated-at">'
        f"updated {_e(_when(s['generated_at']))} UTC · refreshes every {REFRESH_SECONDS} s</p>"
        f"{_totals(s['totals'], hours)}"
        f"<h2>P&amp;L over time (realized, then marked open positions)</h2>"
        f"{_curve(s['equity_curve'])}"
        f"<h2>Open positions</h2>{_positions(s['positions'])}"
        f"<h2>Resolved positions</h2>{_resolved(s.get('resolved', []))}"
        f'<div class="cols"><div><h2>Targets</h2>{_targets(s["targets"], hours)}</div>'
        f"<div><h2>Health</h2>{_health(s['health'])}"
        f"<h2>Skip reasons ({hours} h)</h2>{_reasons(s['skip_reasons'])}</div></div>"
        f"<h2>Recent copies and skips</h2>{_decisions(s['decisions'])}"
        "</main></body></html>")
