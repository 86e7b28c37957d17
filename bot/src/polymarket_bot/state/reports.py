"""Reads for reports: what the dashboard, /metrics, severity and diagnose show about the past.

A mixin of `Store` (the trader's /metrics reads through its own connection) and so of
`ReadOnlyStore` (operator commands). Nothing here is on the order path: each query may scan a
day's rows. Only `state/` knows the tables; callers get plain values.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from polymarket_bot.state.ledger import ZERO


@dataclass(frozen=True)
class RealizedFill:
    """One of our fills as P&L history: when, the P&L it realized, whose copy it was."""

    ts: float
    realized: Decimal
    wallet: str


@dataclass(frozen=True)
class Activity:
    """What the bot did since a moment: the severity assessment's signals from the state."""

    intents: int  # copy orders decided
    failed_intents: int  # of those, failed or answered with an error
    orders: int  # exchange orders updated
    latencies: list[float]  # detected → intent committed, seconds, one per intent


class _Reader(Protocol):
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]: ...


class Reports:
    """Report reads (mixed into `Store`, which provides `_read` on its connection)."""

    def ping(self: _Reader) -> None:
        """One trivial read: raises when the database cannot answer (for /health)."""
        self._read("SELECT 1")

    def token_outcomes(self: _Reader) -> dict[str, str | None]:
        """Each traded token's outcome name, as the targets' fills named it."""
        return {row["token_id"]: row["outcome"] for row in self._read(
            "SELECT token_id, MAX(outcome) AS outcome FROM target_fills GROUP BY token_id")}

    def realized_history(self: _Reader) -> list[RealizedFill]:
        """Every fill of ours with the P&L it realized, oldest first."""
        return [RealizedFill(row["ts"], Decimal(row["realized"]), row["wallet"])
                for row in self._read("SELECT f.ts, f.realized, i.wallet FROM our_fills f "
                                      "JOIN intents i ON i.id = f.intent_id "
                                      "ORDER BY f.ts, f.rowid")]

    def actions_by_wallet(self: _Reader, since: float) -> dict[tuple[str, str], int]:
        """Decisions since `since`, counted per (target wallet, action)."""
        return {(row["wallet"], row["action"]): int(row["n"]) for row in self._read(
            "SELECT wallet, action, COUNT(*) AS n FROM decisions WHERE decided_at >= ? "
            "GROUP BY wallet, action", (since,))}

    def intent_counts(self: _Reader, since: float) -> dict[str, int]:
        """Copy orders decided since `since`, counted per status."""
        return {row["status"]: int(row["n"]) for row in self._read(
            "SELECT status, COUNT(*) AS n FROM intents WHERE created_at >= ? GROUP BY status",
            (since,))}

    def traded_volume(self: _Reader, since: float) -> Decimal:
        """pUSD traded by our fills since `since` (shares times price)."""
        return sum((Decimal(row["size"]) * Decimal(row["price"]) for row in self._read(
            "SELECT size, price FROM our_fills WHERE ts >= ?", (since,))), ZERO)

    def realized_pnl(self: _Reader, day: str) -> Decimal:
        """The day's realized P&L alone (`daily_pnl` adds the open positions' marks)."""
        rows = self._read("SELECT realized FROM daily_pnl WHERE day = ?", (day,))
        return Decimal(rows[0]["realized"]) if rows else ZERO

    def last_decision_at(self: _Reader) -> float | None:
        return self._read("SELECT MAX(decided_at) AS t FROM decisions")[0]["t"]

    def activity(self: _Reader, since: float) -> Activity:
        intents = self._read("SELECT COUNT(*) AS n, COALESCE(SUM(status = 'failed' "
                             "OR error IS NOT NULL), 0) AS failed FROM intents "
                             "WHERE created_at >= ?", (since,))[0]
        orders = self._read("SELECT COUNT(*) AS n FROM orders WHERE updated_at >= ?",
                            (since,))[0]["n"]
        latencies = [row["latency"] for row in self._read(
            "SELECT i.created_at - f.detected_at AS latency FROM intents i "
            "JOIN target_fills f ON f.key = i.fill_key WHERE i.created_at >= ?", (since,))]
        return Activity(intents=int(intents["n"]), failed_intents=int(intents["failed"]),
                        orders=int(orders), latencies=latencies)
