"""Invariants of the state file, checked on demand (ops `check`, after a restore, in tests).

Each problem is one readable line; an empty list means the file is sound.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from decimal import Decimal

from polymarket_bot.state.resolution import resolved_shares

ZERO = Decimal(0)


def problems(db: sqlite3.Connection) -> list[str]:
    found = [f"sqlite integrity: {row[0]}" for row in db.execute("PRAGMA integrity_check")
             if row[0] != "ok"]
    found += [f"foreign key: {row[0]} row {row[1]} points to a missing {row[2]} row"
              for row in db.execute("PRAGMA foreign_key_check")]
    found += _positions_match_fills(db)
    found += _orders_match_fills(db)
    found += _intents_have_their_fill_and_decision(db)
    return found


def _positions_match_fills(db: sqlite3.Connection) -> list[str]:
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for token_id, side, size in db.execute("SELECT token_id, side, size FROM our_fills"):
        applied[token_id] += Decimal(size) if side == "BUY" else -Decimal(size)
    for token_id, shares in resolved_shares(db):  # closed by their market's resolution
        applied[token_id] -= shares
    held = {token_id: Decimal(size)
            for token_id, size in db.execute("SELECT token_id, size FROM positions")}
    return [f"position {token_id}: size {held.get(token_id, ZERO)} but its fills sum to "
            f"{applied.get(token_id, ZERO)}"
            for token_id in sorted(set(held) | set(applied))
            if held.get(token_id, ZERO) != applied.get(token_id, ZERO)]


def _orders_match_fills(db: sqlite3.Connection) -> list[str]:
    applied: dict[str, Decimal] = defaultdict(Decimal)
    for order_id, size in db.execute("SELECT order_id, size FROM our_fills"):
        applied[order_id] += Decimal(size)
    return [f"order {order_id}: filled {filled} but its fills sum to {applied[order_id]}"
            for order_id, filled in db.execute("SELECT order_id, filled_size FROM orders")
            if Decimal(filled) != applied[order_id]]


def _intents_have_their_fill_and_decision(db: sqlite3.Connection) -> list[str]:
    rows = db.execute(
        """SELECT i.id, f.key IS NULL,
                  NOT EXISTS (SELECT 1 FROM decisions d WHERE d.fill_key = i.fill_key
                              AND d.action = 'copy')
           FROM intents i LEFT JOIN target_fills f ON f.key = i.fill_key""")
    found = []
    for intent_id, no_fill, no_decision in rows:
        if no_fill:
            found.append(f"intent {intent_id}: its target fill is missing")
        if no_decision:
            found.append(f"intent {intent_id}: no copy decision was journaled for it")
    return found
