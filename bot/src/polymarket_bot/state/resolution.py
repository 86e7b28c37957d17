"""The end of a position: its market resolves, then its winning tokens are redeemed for pUSD.

Resolution is a bookkeeping event, redemption a cash event, and they are kept apart:
- `resolve` (once per market, whichever source saw it first) marks every position of the market at
  its payout (1 pUSD a winning share, 0 a losing one), books the difference to its cost as realized
  P&L of the day, closes the position (its slot in MAX_OPEN_POSITIONS is free again) and drops the
  copied shares, so a late target SELL finds nothing to exit.
- a redemption moves the payout from outcome tokens to pUSD. It books no P&L (that happened at
  resolution), so a crashed and retried redemption can never count money twice. Its row goes
  pending → signed (the signed transaction and its nonce are committed BEFORE it is sent) → done or
  failed, and a restart finds a signed one and checks the chain instead of signing another.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from polymarket_bot.models import IntentStatus
from polymarket_bot.state.ledger import ZERO, q6, text

# A redemption row's life. "manual": this wallet type cannot redeem from here; the alert says how.
PENDING, SIGNED, DONE, FAILED, MANUAL = "pending", "signed", "done", "failed", "manual"
DUST = Decimal("0.01")


@dataclass(frozen=True)
class ResolvedPosition:
    """A position as its market's resolution closed it."""

    token_id: str
    condition_id: str
    shares: Decimal
    cost: Decimal
    payout_price: Decimal  # pUSD per share: 1 won, 0 lost (a split market pays a fraction)
    payout: Decimal  # shares x payout_price: what redeeming these tokens pays
    pnl: Decimal  # payout - cost, booked on the day of resolution
    resolved_at: float


@dataclass(frozen=True)
class Redemption:
    condition_id: str
    status: str
    route: str  # "eoa" (our transaction), "paper", or the wallet type redeemed by hand
    expected: Decimal
    tx_hash: str | None
    nonce: int | None
    raw_tx: str | None
    payout: Decimal | None
    error: str | None
    updated_at: float


@dataclass(frozen=True)
class Redeemable:
    """A resolved market whose winning tokens we have not redeemed yet."""

    condition_id: str
    neg_risk: bool
    payouts: dict[str, Decimal]  # token id → pUSD per share
    shares: dict[str, Decimal]  # token id → shares we held at resolution
    expected: Decimal  # pUSD the redemption should pay
    redemption: Redemption | None


class _Db(Protocol):
    def _tx(self, durable: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...

    def _read(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]: ...

    def _forget_open(self) -> None: ...


class ResolutionBooks:
    """Store methods for resolution and redemption (mixed into `Store`)."""

    def resolve(self: _Db, condition_id: str, payouts: dict[str, Decimal], *, source: str,
                neg_risk: bool = False, now: float | None = None,
                ) -> list[ResolvedPosition] | None:
        """Close every position of a resolved market at its payout; None if resolved before.

        The first source to report a market wins; the others find the row and change nothing
        (the one de-duplicated signal). `payouts` maps each outcome token to its pUSD per share.
        """
        from polymarket_bot.state.store import _add_daily_pnl, utc_day  # circular at import

        now = time.time() if now is None else now
        condition_id = condition_id.lower()
        prices = {token: Decimal(price) for token, price in payouts.items()}
        if any(not 0 <= price <= 1 for price in prices.values()):
            raise ValueError(f"payouts of {condition_id} must be within [0, 1]: {payouts}")
        with self._tx() as db:
            self._forget_open()  # pending copies of the market fail below
            inserted = db.execute(
                "INSERT INTO resolutions (condition_id, payouts, neg_risk, source, resolved_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (condition_id) DO NOTHING",
                (condition_id, json.dumps({t: text(p) for t, p in prices.items()}),
                 int(neg_risk), source, now)).rowcount
            if not inserted:
                return None
            closed = []
            rows = db.execute("SELECT token_id, size, cost FROM positions WHERE "
                              "condition_id = ?", (condition_id,)).fetchall()
            for token_id, size, cost in rows:
                shares, basis = Decimal(size), Decimal(cost)
                if shares <= 0:
                    continue
                if token_id not in prices:
                    raise ValueError(f"resolution of {condition_id} names no payout for "
                                     f"token {token_id} we hold")
                price = prices[token_id]
                payout = q6(shares * price)
                pnl = payout - basis
                closed.append(ResolvedPosition(token_id, condition_id, shares, basis, price,
                                               payout, pnl, now))
                db.execute("INSERT INTO resolved_positions (token_id, condition_id, shares, "
                           "cost, payout_price, payout, pnl, resolved_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (token_id, condition_id, text(shares), text(basis), text(price),
                            text(payout), text(pnl), now))
                db.execute("UPDATE positions SET size = '0', cost = '0', mark_price = ?, "
                           "realized_pnl = ?, updated_at = ? WHERE token_id = ?",
                           (text(price), text(_realized(db, token_id) + pnl), now, token_id))
                db.execute("UPDATE copied SET shares = '0', updated_at = ? WHERE token_id = ?",
                           (now, token_id))
                _add_daily_pnl(db, utc_day(now), pnl)
            # a copy nobody signed yet can only bounce off a closed market: it must not hold a
            # slot in the open-position gate or exposure
            db.execute("UPDATE intents SET status = ?, error = ?, updated_at = ? WHERE "
                       "condition_id = ? AND status = ?",
                       (IntentStatus.FAILED.value, "market resolved", now, condition_id,
                        IntentStatus.PENDING.value))
        return closed

    def name_market(self: _Db, token_id: str, condition_id: str, question: str,
                    outcome: str) -> None:
        with self._tx(durable=False) as db:
            db.execute("INSERT INTO market_names (token_id, condition_id, question, outcome) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (token_id) DO UPDATE SET "
                       "question = excluded.question, outcome = excluded.outcome "
                       # the same name again writes nothing: no page to sync with the copy
                       "WHERE question IS NOT excluded.question "
                       "OR outcome IS NOT excluded.outcome",
                       (token_id, condition_id, question, outcome))

    def market_names(self: _Db) -> dict[str, tuple[str, str]]:
        """token id → (market question, outcome name), for every token we have traded."""
        return {r["token_id"]: (r["question"], r["outcome"]) for r in self._read(
            "SELECT token_id, question, outcome FROM market_names")}

    def is_resolved(self: _Db, condition_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM resolutions WHERE condition_id = ?",
                               (condition_id.lower(),)))

    def open_conditions(self: _Db) -> list[str]:
        """Markets we hold a position in that have not resolved (what detection watches)."""
        rows = self._read(
            "SELECT DISTINCT p.condition_id FROM positions p WHERE CAST(p.size AS REAL) >= ? "
            "AND NOT EXISTS (SELECT 1 FROM resolutions r WHERE r.condition_id = p.condition_id) "
            "ORDER BY p.condition_id", (float(DUST),))
        return [row["condition_id"] for row in rows]

    def resolved_positions(self: _Db, limit: int = 200) -> list[ResolvedPosition]:
        rows = self._read("SELECT token_id, condition_id, shares, cost, payout_price, payout, pnl, "
                          "resolved_at FROM resolved_positions ORDER BY resolved_at DESC, "
                          "token_id LIMIT ?", (limit,))
        return [ResolvedPosition(r["token_id"], r["condition_id"], Decimal(r["shares"]),
                                 Decimal(r["cost"]), Decimal(r["payout_price"]),
                                 Decimal(r["payout"]), Decimal(r["pnl"]), r["resolved_at"])
                for r in rows]

    def redeemable(self: _Db) -> list[Redeemable]:
        """Resolved markets with a payout still in outcome tokens (not redeemed, not given up)."""
        found = []
        for row in self._read("SELECT condition_id, payouts, neg_risk FROM resolutions "
                              "ORDER BY resolved_at, condition_id"):
            condition = row["condition_id"]
            shares = {r["token_id"]: Decimal(r["shares"]) for r in self._read(
                "SELECT token_id, shares FROM resolved_positions WHERE condition_id = ?",
                (condition,))}
            payouts = {t: Decimal(p) for t, p in json.loads(row["payouts"]).items()}
            expected = q6(sum((s * payouts.get(t, ZERO) for t, s in shares.items()), ZERO))
            redemption = ResolutionBooks.redemption(self, condition)
            if expected <= 0 or (redemption is not None and redemption.status == DONE):
                continue
            found.append(Redeemable(condition, bool(row["neg_risk"]), payouts, shares, expected,
                                    redemption))
        return found

    def redemption(self: _Db, condition_id: str) -> Redemption | None:
        rows = self._read("SELECT condition_id, status, route, expected, tx_hash, nonce, raw_tx, "
                          "payout, error, updated_at FROM redemptions WHERE condition_id = ?",
                          (condition_id.lower(),))
        return _redemption(rows[0]) if rows else None

    def redemptions(self: _Db) -> list[Redemption]:
        rows = self._read("SELECT condition_id, status, route, expected, tx_hash, nonce, raw_tx, "
                          "payout, error, updated_at FROM redemptions ORDER BY updated_at")
        return [_redemption(row) for row in rows]

    def redeemed_total(self: _Db) -> Decimal:
        return sum((Decimal(r["payout"]) for r in self._read(
            "SELECT payout FROM redemptions WHERE status = ? AND payout IS NOT NULL", (DONE,))),
            ZERO)

    def begin_redemption(self: _Db, condition_id: str, route: str, expected: Decimal) -> bool:
        """Claim a market for redemption; False if a redemption of it is signed or done."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT status FROM redemptions WHERE condition_id = ?",
                             (condition_id,)).fetchone()
            if row is not None and row[0] in (SIGNED, DONE):
                return False
            db.execute("INSERT INTO redemptions (condition_id, status, route, expected, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
                       "(condition_id) DO UPDATE SET status = excluded.status, "
                       "route = excluded.route, expected = excluded.expected, error = NULL, "
                       "updated_at = excluded.updated_at",
                       (condition_id, PENDING, route, text(expected), now, now))
        return True

    def redemption_signed(self: _Db, condition_id: str, tx_hash: str, nonce: int,
                          raw_tx: str) -> None:
        """The signed transaction, durably, BEFORE it is sent: a restart re-sends these very
        bytes (the chain mines one transaction per nonce) instead of signing a second one."""
        with self._tx() as db:
            changed = db.execute("UPDATE redemptions SET status = ?, tx_hash = ?, nonce = ?, "
                                 "raw_tx = ?, updated_at = ? WHERE condition_id = ? AND "
                                 "status = ?", (SIGNED, tx_hash, nonce, raw_tx, time.time(),
                                                condition_id, PENDING)).rowcount
        if not changed:
            raise ValueError(f"redemption of {condition_id} is not pending")

    def finish_redemption(self: _Db, condition_id: str, status: str, *,
                          payout: Decimal | None = None, error: str | None = None) -> None:
        if status not in (DONE, FAILED, MANUAL):
            raise ValueError(f"not a final redemption status: {status}")
        with self._tx() as db:
            db.execute("UPDATE redemptions SET status = ?, payout = ?, error = ?, updated_at = ? "
                       "WHERE condition_id = ? AND status != ?",
                       (status, None if payout is None else text(payout), error, time.time(),
                        condition_id, DONE))


def _realized(db: sqlite3.Connection, token_id: str) -> Decimal:
    row = db.execute("SELECT realized_pnl FROM positions WHERE token_id = ?",
                     (token_id,)).fetchone()
    return Decimal(row[0]) if row else ZERO


def _redemption(row: sqlite3.Row) -> Redemption:
    return Redemption(row["condition_id"], row["status"], row["route"], Decimal(row["expected"]),
                      row["tx_hash"], row["nonce"], row["raw_tx"],
                      None if row["payout"] is None else Decimal(row["payout"]), row["error"],
                      row["updated_at"])


def resolved_shares(db: sqlite3.Connection) -> Iterator[tuple[str, Decimal]]:
    """(token, shares) closed by resolution: positions' sizes are their fills minus these."""
    for token_id, shares in db.execute("SELECT token_id, shares FROM resolved_positions"):
        yield token_id, Decimal(shares)
