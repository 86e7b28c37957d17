"""`polymarket-bot dashboard`: one server-rendered page of the trader's state, on loopback.

Reads the state DB (short reads in WAL mode, so the running trader is never locked out) and the
running bot's /health. `GET /` is the page (ops/dashboard_page.py), `GET /api/summary` the same
numbers as JSON. No JavaScript, no CDN: hosts have no egress, and an SSH tunnel is the way in.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from polymarket_bot.config import ConfigError
from polymarket_bot.config.check import say
from polymarket_bot.config.settings import OperatorSettings, load_settings
from polymarket_bot.config.wallets import collect_wallets
from polymarket_bot.ops.dashboard_page import render
from polymarket_bot.ops.health_client import fetch_health
from polymarket_bot.state.ledger import ZERO, q6, text
from polymarket_bot.state.store import DB_FILE, Store, utc_day

WINDOW_HOURS = 24  # copies, skips and orders are counted over this window
RECENT = 50  # decisions listed


def _short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


def _num(value: Decimal | None) -> str | None:
    """Decimals as strings in the JSON: exact, and what the page shows."""
    return None if value is None else text(q6(value))


def collect(db_path: Path, labels: dict[str, str], health: dict | None,
            now: float | None = None) -> dict[str, Any]:
    """Every number the page shows, read from the state DB in one short visit."""
    now = time.time() if now is None else now
    since = now - WINDOW_HOURS * 3600
    with Store(db_path, busy_timeout=2.0) as store:
        positions = store.positions()
        names = store.market_names()
        resolved = store.resolved_positions()
        redemptions = {r.condition_id: r for r in store.redemptions()}
        daily = store.daily_pnl(utc_day(now))
        decisions = store.decisions(limit=RECENT)
        reasons = store.decision_counts(since)
        db = store._db  # history the Store API has no reader for; read-only queries
        with store._lock:
            outcomes = {r["token_id"]: r["outcome"] for r in db.execute(
                "SELECT token_id, MAX(outcome) AS outcome FROM target_fills GROUP BY token_id")}
            fills = db.execute("SELECT f.ts, f.realized, i.wallet FROM our_fills f "
                               "JOIN intents i ON i.id = f.intent_id ORDER BY f.ts, f.rowid"
                               ).fetchall()
            per_action = db.execute("SELECT wallet, action, COUNT(*) AS n FROM decisions "
                                    "WHERE decided_at >= ? GROUP BY wallet, action",
                                    (since,)).fetchall()
            intents = {r["status"]: int(r["n"]) for r in db.execute(
                "SELECT status, COUNT(*) AS n FROM intents WHERE created_at >= ? "
                "GROUP BY status", (since,))}

    open_rows, unrealized = [], ZERO
    for p in positions:
        mark = p.mark_price
        upnl = q6(p.size * mark - p.cost) if mark is not None else None
        unrealized += upnl or ZERO
        question, outcome = names.get(p.token_id, ("", outcomes.get(p.token_id)))
        open_rows.append({"token_id": p.token_id, "condition_id": p.condition_id,
                          "market": question, "outcome": outcome, "size": _num(p.size),
                          "avg_cost": _num(p.cost / p.size) if p.size else None,
                          "cost": _num(p.cost), "mark": _num(mark),
                          "unrealized_pnl": _num(upnl)})

    resolved_rows = []
    for r in resolved:
        question, outcome = names.get(r.token_id, ("", outcomes.get(r.token_id)))
        redemption = redemptions.get(r.condition_id)
        resolved_rows.append({
            "token_id": r.token_id, "market": question, "outcome": outcome,
            "result": "won" if r.payout_price > 0 else "lost", "shares": _num(r.shares),
            "payout": _num(r.payout), "pnl": _num(r.pnl), "resolved_at": r.resolved_at,
            "redeemed": redemption.status if redemption else ("—" if r.payout <= 0
                                                              else "pending")})

    # the equity curve: cumulative realized P&L at each fill and resolution, then today's marks
    realized, curve = ZERO, []
    by_wallet_pnl: dict[str, Decimal] = defaultdict(lambda: ZERO)
    events = [(row["ts"], Decimal(row["realized"]), row["wallet"]) for row in fills]
    events += [(r.resolved_at, r.pnl, None) for r in resolved]
    for ts, pnl, wallet in sorted(events, key=lambda e: e[0]):
        realized += pnl
        if wallet is not None:
            by_wallet_pnl[wallet] += pnl
        curve.append([ts, float(realized)])
    curve.append([now, float(realized + unrealized)])

    targets: dict[str, dict[str, Any]] = {}
    for wallet in {*labels, *(r["wallet"] for r in per_action), *by_wallet_pnl}:
        targets[wallet] = {"wallet": wallet, "label": labels.get(wallet) or _short(wallet),
                           "copies": 0, "skips": 0,
                           "realized_pnl": _num(by_wallet_pnl.get(wallet, ZERO))}
    for row in per_action:
        targets[row["wallet"]]["copies" if row["action"] == "copy" else "skips"] += row["n"]

    recent = [{"time": d["decided_at"], "wallet": d["wallet"],
               "label": labels.get(d["wallet"]) or _short(d["wallet"]), "action": d["action"],
               "side": d["side"], "size": _num(d["size"]), "price": _num(d["limit_price"]),
               "reason": d["reason"], "detail": d["detail"], "order": d["intent_status"],
               "outcome": outcomes.get(d["token_id"])} for d in decisions]
    copies = sum(t["copies"] for t in targets.values())
    return {
        "generated_at": now,
        "window_hours": WINDOW_HOURS,
        "totals": {
            "daily_pnl": _num(daily), "realized_pnl": _num(realized),
            "unrealized_pnl": _num(unrealized), "open_positions": len(open_rows),
            "copies": copies, "skips": sum(t["skips"] for t in targets.values()),
            "orders_ok": intents.get("done", 0), "orders_failed": intents.get("failed", 0),
            "orders_pending": sum(intents.get(s, 0) for s in ("pending", "signed", "posted")),
        },
        "skip_reasons": {r: n for r, n in reasons.items() if r != "copied"},
        "positions": open_rows,
        "resolved": resolved_rows,
        "equity_curve": curve,
        "decisions": recent,
        "targets": sorted(targets.values(), key=lambda t: (-t["copies"], t["label"])),
        "health": health,
    }


class Dashboard:
    """The aiohttp app: each request reads fresh numbers (a page every 15 s is cheap)."""

    def __init__(self, db_path: Path, labels: dict[str, str], state_dir: Path) -> None:
        self.db_path = db_path
        self.labels = labels
        self.state_dir = state_dir  # /health comes from the trader's socket there, verified
        self.app = web.Application()
        self.app.router.add_get("/", self._page)
        self.app.router.add_get("/api/summary", self._summary)

    async def summary(self) -> dict[str, Any]:
        health = await asyncio.to_thread(fetch_health, self.state_dir)
        if not self.db_path.exists():
            raise web.HTTPServiceUnavailable(text=f"no state database at {self.db_path}")
        return await asyncio.to_thread(collect, self.db_path, self.labels, health)

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(text=render(await self.summary()), content_type="text/html",
                            charset="utf-8")

    async def _summary(self, request: web.Request) -> web.Response:
        return web.json_response(await self.summary())


def _labels(path: Path) -> dict[str, str]:
    config, _problems = collect_wallets(path)  # a broken wallets file only costs the labels
    if config is None:
        return {}
    return {t.address: t.name for t in config.targets}


def main(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.env_file, model=OperatorSettings)
    except ConfigError as exc:
        say(f"polymarket-bot: configuration invalid:\n{exc}", sys.stderr)
        return 2
    state_dir = args.state_dir or settings.STATE_DIR
    dashboard = Dashboard(state_dir / DB_FILE, _labels(settings.WALLETS_FILE), state_dir)
    say(f"dashboard on http://{args.host}:{args.port}/ (state {state_dir / DB_FILE})")
    try:
        web.run_app(dashboard.app, host=args.host, port=args.port, access_log=None,
                    print=None)
    except OSError as exc:
        say(f"polymarket-bot: cannot serve the dashboard on {args.host}:{args.port}: "
            f"{exc.strerror or type(exc).__name__} (choose another --port)", sys.stderr)
        return 1
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dashboard", help="serve the trader's dashboard on loopback")
    parser.add_argument("--env-file", type=Path, default=None,
                        help="also read settings from this file")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="the bot's STATE_DIR (default: from the settings)")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--host", default="127.0.0.1",
                        help="bind address (default loopback: reach it through an SSH tunnel)")
    parser.set_defaults(func=main)
