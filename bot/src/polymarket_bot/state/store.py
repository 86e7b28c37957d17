"""The bot's durable state: one SQLite file, written so that a crash never doubles an order.

The order of writes is the safety argument. A target fill, the decision about it and the order
intent are committed together (`record_detection`) before anything is signed or posted; the
signed payload is committed (`mark_signed`) before it is posted; and an exchange result is
applied by its cumulative filled size (`apply_result`), so replaying it after a restart changes
nothing. `synchronous=FULL` makes each durable commit survive a power cut, not only a process
kill.

Money and sizes are Decimal, stored as TEXT. One connection, guarded by a lock, so the engine may
call the store from its event loop or from a worker thread.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from polymarket_bot.models import (
    Decision,
    IntentStatus,
    OrderIntent,
    OrderResult,
    Position,
    Side,
    TargetFill,
)
from polymarket_bot.state import integrity, ledger
from polymarket_bot.state.ledger import ZERO, Holding, q6, text
from polymarket_bot.state.open_intents import UNRESOLVED, OpenIntent, OpenIntents
from polymarket_bot.state.reports import Reports
from polymarket_bot.state.resolution import DONE, ResolutionBooks
from polymarket_bot.state.schema import MIGRATIONS, Migration, migrate, schema_version
from polymarket_bot.state.wal_flush import WalFlusher

FINAL = (IntentStatus.DONE, IntentStatus.FAILED)
_SEEN_CHUNK = 500  # stays under SQLite's bound-parameter limit
_INTENT_COLUMNS = ("id, fill_key, wallet, token_id, condition_id, side, size, limit_price, "
                   "order_type, expires_at, status, order_id, error, created_at")


def utc_day(ts: float) -> str:
    """The UTC calendar day of a unix time, as `daily_pnl` keys it (2026-05-01)."""
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


@dataclass(frozen=True)
class PaperOrder:
    """A simulated order of paper mode, as `paper_orders` keeps it."""

    order_id: str
    token_id: str
    side: Side
    size: Decimal
    limit_price: Decimal
    order_type: str
    status: str  # live, matched, unmatched, canceled
    filled_size: Decimal
    cost: Decimal  # pUSD paid (BUY) or received (SELL) for the filled shares
    created_at: float


DB_FILE = "bot.db"  # the state database inside STATE_DIR
# Below the CLOB's size precision (0.01 shares): a full exit can leave this much behind, and it
# can never be sold, so it is not an open position.
DUST = Decimal("0.01")


class Store(ResolutionBooks, Reports):
    """The state file under STATE_DIR. Creates it (mode 0600) and migrates it on open."""

    def __init__(self, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS,
                 busy_timeout: float = 5.0, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only:  # see ReadOnlyStore: the file must exist, and stays as it is
            if not self.path.is_file():
                raise FileNotFoundError(f"no state database at {self.path}")
        else:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _create_private(self.path)
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._flusher = WalFlusher(self.path)  # its thread starts on the first poke
        self._open: OpenIntents | None = None  # unresolved intents, for limits; None: unread
        # (unix time, what) of the last write the disk refused; None once a write succeeds
        self.write_error: tuple[float, str] | None = None
        self._db = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro" if read_only else str(self.path),
            uri=read_only, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        try:
            self._db.row_factory = sqlite3.Row
            if read_only:
                self.version = schema_version(self._db)
                return
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self.version = migrate(self._db, migrations)
            # at rest NORMAL: most commits of a copy can be rebuilt from the exchange; a
            # durable one raises it to FULL for its own commit (see _tx and batch)
            self._db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._flusher.close()
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction. `durable=False` skips the fsync for writes a restart can rebuild
        from the exchange (a signed order's hash, an order result, a cursor, a mark): in WAL
        mode they still survive a process crash, and the next durable commit syncs them too.
        Only the copy decision itself (record_detection) must survive a power cut on its own.
        """
        with self._lock:
            if self._batch_depth:
                yield self._db  # part of the open batch: it commits (durably) at the end
                return
            with self._synchronous(durable), self._writing():
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._rollback()
                    raise
                self._db.execute("COMMIT")
            if not durable:
                self._flusher.poke()

    @contextmanager
    def _synchronous(self, durable: bool) -> Iterator[None]:
        """FULL (the commit is fsynced) for a durable transaction, then back to NORMAL. The
        connection rests at NORMAL because a copied order commits twice without needing it
        (its signed payload, its result) for every durable commit (its detection batch)."""
        if not durable:
            yield
            return
        self._db.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            self._db.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Remember whether the disk took the last write (for /health), and roll back what
        a failed COMMIT left open."""
        try:
            yield
        except sqlite3.Error as exc:
            self._rollback()
            failure = write_failure(exc)
            if failure:
                self.write_error = (time.time(), failure)
            raise
        self.write_error = None

    def _rollback(self) -> None:
        self._open = None  # it may hold intents the rollback undid
        # SQLite may have rolled back already (it does on SQLITE_FULL): a second ROLLBACK
        # would raise and hide the real error
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Several writes as ONE durable commit: all of them, or none after a crash.

        Reads inside see the batch's own writes, so a burst of detections is decided one after
        the other against up-to-date limits while paying for a single fsync. The caller must not
        await inside: another task's writes would join the batch.
        """
        with self._lock:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1
                return
            with self._synchronous(durable=True), self._writing():
                self._db.execute("BEGIN IMMEDIATE")
                self._batch_depth = 1
                try:
                    yield
                except BaseException:
                    self._rollback()
                    raise
                finally:
                    self._batch_depth = 0
                self._db.execute("COMMIT")

    def _write(self, sql: str, params: Sequence[object] = (), durable: bool = True) -> int:
        with self._tx(durable) as db:
            return db.execute(sql, params).rowcount

    # --- cursors and dedup -----------------------------------------------------------------

    def get_cursor(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM cursors WHERE name = ?", (name,))
        return rows[0]["value"] if rows else None

    def set_cursor(self, name: str, value: str) -> None:
        self._write("INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                    "updated_at = excluded.updated_at", (name, value, time.time()),
                    durable=False)

    def seen(self, keys: Iterable[str]) -> set[str]:
        """The fill keys among `keys` already recorded."""
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), _SEEN_CHUNK):
            chunk = wanted[start:start + _SEEN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(row["key"] for row in self._read(
                f"SELECT key FROM target_fills WHERE key IN ({marks})", chunk))
        return found

    # --- detection: fill + decision + intent, atomically -------------------------------------

    def record_detection(self, fill: TargetFill, decision: Decision,
                         intent: OrderIntent | None) -> bool:
        """Journal a target fill, what we decided and the order we will send, in one commit.

        Returns False, writing nothing, if the fill was recorded before (by either source, or
        before a restart): that is the one place a duplicate copy is stopped.
        """
        if decision.fill_key != fill.key or (intent is not None and intent.fill_key != fill.key):
            raise ValueError("the decision and the intent must be about this fill")
        with self._tx() as db:
            inserted = db.execute(
                """INSERT INTO target_fills (key, wallet, source, tx_hash, log_index,
                       block_number, ts, token_id, condition_id, outcome, side, size, price,
                       usdc_size, detected_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (key) DO NOTHING""",
                (fill.key, fill.wallet, fill.source, fill.tx_hash, fill.log_index,
                 fill.block_number, fill.timestamp, fill.token_id, fill.condition_id,
                 fill.outcome, fill.side.value, text(fill.size), text(fill.price),
                 text(fill.usdc_size), fill.detected_at)).rowcount
            if not inserted:
                return False
            db.execute(
                """INSERT INTO decisions (fill_key, wallet, token_id, condition_id, action,
                       reason, detail, side, size, limit_price, decided_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (decision.fill_key, decision.wallet, decision.token_id, decision.condition_id,
                 decision.action.value, decision.reason, decision.detail, decision.side.value,
                 text(decision.size), _opt(decision.limit_price), decision.decided_at))
            if intent is not None:
                db.execute(
                    """INSERT INTO intents (id, fill_key, wallet, token_id, condition_id, side,
                           size, limit_price, order_type, expires_at, status, order_id, error,
                           created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (intent.id, intent.fill_key, intent.wallet, intent.token_id,
                     intent.condition_id, intent.side.value, text(intent.size),
                     text(intent.limit_price), intent.order_type, intent.expires_at,
                     intent.status.value, intent.order_id, intent.error, intent.created_at,
                     time.time()))
                if self._open is not None:  # a rollback forgets it
                    self._open.add(OpenIntent(intent.id, intent.side, intent.token_id,
                                              intent.condition_id, intent.wallet, intent.size,
                                              intent.limit_price, ZERO))
            held = _target_holding(db, fill.wallet, fill.token_id) or ZERO
            held = held + fill.size if fill.side is Side.BUY else max(ZERO, held - fill.size)
            _set_target_holding(db, fill.wallet, fill.token_id, held)
        return True

    # --- intents through their life ---------------------------------------------------------

    def mark_signed(self, intent_id: str, order_id: str, signed_order: dict) -> None:
        """Keep the signed payload before posting it, so a restart re-posts the SAME order."""
        changed = self._write(
            "UPDATE intents SET status = ?, order_id = ?, signed_order = ?, updated_at = ? "
            "WHERE id = ? AND status IN (?, ?)",
            (IntentStatus.SIGNED.value, order_id, json.dumps(signed_order, sort_keys=True),
             time.time(), intent_id, IntentStatus.PENDING.value, IntentStatus.SIGNED.value),
            durable=False)
        if not changed:
            raise ValueError(f"intent {intent_id} is unknown or past signing")

    def mark_posted(self, intent_id: str) -> None:
        """The exchange accepted the order (a no-op once a result made the intent final)."""
        self._write("UPDATE intents SET status = ?, updated_at = ? WHERE id = ? "
                    "AND status IN (?, ?)",
                    (IntentStatus.POSTED.value, time.time(), intent_id,
                     IntentStatus.PENDING.value, IntentStatus.SIGNED.value), durable=False)

    def mark_failed(self, intent_id: str, error: str) -> None:
        """Give up on an intent. One that already filled in part is DONE, not FAILED."""
        with self._tx() as db:
            filled = _applied_size(db, intent_id)
            status = IntentStatus.DONE if filled > 0 else IntentStatus.FAILED
            db.execute("UPDATE intents SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                       (status.value, error, time.time(), intent_id))
            self._refresh_open(db, intent_id)

    def apply_result(self, intent_id: str, result: OrderResult, fee: Decimal = ZERO, *,
                     now: float | None = None) -> None:
        """Apply what the exchange says about an intent's order; applying it again is a no-op.

        `result.filled_size` and `fee` are cumulative for the order: only the part beyond what
        was applied before moves positions, `copied` and the day's P&L. Every copy passes here
        once: the order and its books are read in one statement and written in one each.
        """
        now = time.time() if now is None else now
        with self._tx(durable=False) as db:
            intent = _intent(db, intent_id)
            if intent is None:
                raise KeyError(f"unknown intent {intent_id}")
            order, others = None, ZERO  # this order's row; what the intent's other orders filled
            for row in db.execute("SELECT order_id, intent_id, status, filled_size, cost, fee "
                                  "FROM orders WHERE order_id = ? OR intent_id = ?",
                                  (result.order_id, intent_id)):
                if row["order_id"] == result.order_id:
                    order = row
                else:
                    others += Decimal(row["filled_size"])
            if order is not None and order["intent_id"] != intent_id:
                raise ValueError(f"order {result.order_id} belongs to another intent")
            before = (Decimal(order["filled_size"]), Decimal(order["cost"]),
                      Decimal(order["fee"])) if order else (ZERO, ZERO, ZERO)
            fill = _new_fill(intent, result, fee, before)
            filled, cost, paid = fill.totals if fill else before
            # "rejected"/"not_found" say nothing about an order the exchange has; nor does an
            # answer older than one applied before (less filled)
            known = (result.status not in ("rejected", "not_found")
                     and result.filled_size >= before[0])
            if known or order is not None or fill is not None:
                status = result.status if known else (order["status"] if order else "unknown")
                avg = text(q6(cost / filled)) if filled > 0 else None
                # before the fill: the fill references the order
                db.execute(
                    """INSERT INTO orders (order_id, intent_id, status, filled_size, cost, fee,
                           avg_price, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (order_id) DO UPDATE SET status = excluded.status,
                           filled_size = excluded.filled_size, cost = excluded.cost,
                           fee = excluded.fee, avg_price = excluded.avg_price,
                           updated_at = excluded.updated_at""",
                    (result.order_id, intent_id, status, text(filled), text(cost), text(paid),
                     avg, now))
            if fill is not None:
                _book_fill(db, intent, result.order_id, fill, now)
            applied = others + filled
            status = _next_status(intent, result, applied)
            # an intent the exchange settled keeps no error from the tries before it
            settled = status is IntentStatus.DONE and known
            db.execute("UPDATE intents SET status = ?, error = CASE WHEN ? THEN ? "
                       "ELSE COALESCE(?, error) END, order_id = COALESCE(order_id, ?), "
                       "updated_at = ? WHERE id = ?",
                       (status.value, settled, result.error, result.error, result.order_id,
                        now, intent_id))
            if self._open is not None:  # kept current without reading the intent again
                self._open.update(OpenIntent(intent.id, intent.side, intent.token_id,
                                             intent.condition_id, intent.wallet, intent.size,
                                             intent.limit_price, applied),
                                  still_open=status in UNRESOLVED)

    def intent(self, intent_id: str) -> OrderIntent | None:
        with self._lock:
            return _intent(self._db, intent_id)

    def fill_of_intent(self, intent_id: str) -> TargetFill | None:
        """The target fill an intent copies (for latency: when it happened, when we saw it)."""
        rows = self._read(
            "SELECT f.key, f.wallet, f.source, f.tx_hash, f.log_index, f.block_number, f.ts, "
            "f.token_id, f.condition_id, f.outcome, f.side, f.size, f.price, f.usdc_size, "
            "f.detected_at FROM intents i JOIN target_fills f ON f.key = i.fill_key "
            "WHERE i.id = ?", (intent_id,))
        if not rows:
            return None
        row = rows[0]
        return TargetFill(
            key=row["key"], wallet=row["wallet"], source=row["source"], tx_hash=row["tx_hash"],
            log_index=row["log_index"], block_number=row["block_number"], timestamp=row["ts"],
            token_id=row["token_id"], condition_id=row["condition_id"], outcome=row["outcome"],
            side=Side(row["side"]), size=Decimal(row["size"]), price=Decimal(row["price"]),
            usdc_size=Decimal(row["usdc_size"]), detected_at=row["detected_at"])

    def unresolved_intents(self) -> list[OrderIntent]:
        """Intents a restart must reconcile with the exchange before sending anything new."""
        marks = ",".join("?" * len(UNRESOLVED))
        rows = self._read(f"SELECT {_INTENT_COLUMNS} FROM intents WHERE status IN ({marks}) "
                          "ORDER BY created_at, id", [s.value for s in UNRESOLVED])
        return [_to_intent(row) for row in rows]

    def intents_to_sweep(self, now: float, stuck_before: float,
                         resting: Sequence[str]) -> list[OrderIntent]:
        """The unresolved intents a sweep may have to settle: pending or signed ones created
        before `stuck_before`, posted ones of an order type that cannot rest, and resting ones
        expired at `now`. The others (most of them, in a burst) are not read at all."""
        kinds = ",".join("?" * len(resting))
        rows = self._read(
            f"SELECT {_INTENT_COLUMNS} FROM intents WHERE (status IN (?, ?) AND created_at < ?)"
            f" OR (status = ? AND (order_type NOT IN ({kinds}) OR expires_at < ?))"
            " ORDER BY created_at, id",
            [IntentStatus.PENDING.value, IntentStatus.SIGNED.value, stuck_before,
             IntentStatus.POSTED.value, *resting, now])
        return [_to_intent(row) for row in rows]

    def signed_order(self, intent_id: str) -> dict | None:
        rows = self._read("SELECT signed_order FROM intents WHERE id = ?", (intent_id,))
        return json.loads(rows[0]["signed_order"]) if rows and rows[0]["signed_order"] else None

    # --- reads for policy -------------------------------------------------------------------

    def position(self, token_id: str) -> Position | None:
        rows = self._read("SELECT token_id, condition_id, size, cost, realized_pnl, mark_price "
                          "FROM positions WHERE token_id = ?", (token_id,))
        return _to_position(rows[0]) if rows else None

    def positions(self) -> list[Position]:
        """Every token we hold shares of."""
        rows = self._read("SELECT token_id, condition_id, size, cost, realized_pnl, mark_price "
                          "FROM positions ORDER BY token_id")
        return [p for p in map(_to_position, rows) if abs(p.size) >= DUST]

    def exposure(self, condition_id: str) -> Decimal:
        """pUSD at stake in a market: the cost of what we hold in any of its outcomes, plus what
        unresolved buys in it may still spend."""
        held = sum((Decimal(row["cost"]) for row in self._read(
            "SELECT cost FROM positions WHERE condition_id = ?", (condition_id,))), ZERO)
        with self._lock:
            pending = self._open_intents().unfilled_cost(Side.BUY, condition_id)
        return q6(held + pending)

    def open_positions(self) -> int:
        """Tokens we hold, plus tokens an unresolved buy is about to open."""
        # asked before every buy decision: held tokens filtered in SQL, open buys kept in memory
        with self._lock:
            held = {row[0] for row in self._db.execute(
                f"SELECT token_id FROM positions WHERE CAST(size AS REAL) >= {DUST}")}
            return len(held | self._open_intents().tokens(Side.BUY))

    def trades_since(self, ts: float) -> int:
        """Our copy orders created since `ts`, except those that failed (nothing was traded)."""
        rows = self._read("SELECT COUNT(*) AS n FROM intents WHERE created_at >= ? "
                          "AND status != ?", (ts, IntentStatus.FAILED.value))
        return int(rows[0]["n"])

    def last_trade_at(self, wallet: str, condition_id: str) -> float | None:
        # newest first along (wallet, condition_id, created_at): stops at the first one counted
        rows = self._read("SELECT created_at FROM intents WHERE wallet = ? AND condition_id = ? "
                          "AND status != ? ORDER BY created_at DESC LIMIT 1",
                          (wallet, condition_id, IntentStatus.FAILED.value))
        return rows[0]["created_at"] if rows else None

    def daily_pnl(self, day: str, marks: dict[str, Decimal] | None = None) -> Decimal:
        """The day's realized P&L plus the open positions' unrealized P&L at mark prices
        (`marks` first, else the last `set_mark`; a position without any mark counts 0)."""
        rows = self._read("SELECT realized FROM daily_pnl WHERE day = ?", (day,))
        total = Decimal(rows[0]["realized"]) if rows else ZERO
        for position in self.positions():
            mark = (marks or {}).get(position.token_id, position.mark_price)
            if mark is not None and position.size > 0:
                total += position.size * Decimal(mark) - position.cost
        return q6(total)

    def set_mark(self, token_id: str, price: Decimal) -> None:
        self._write("UPDATE positions SET mark_price = ? WHERE token_id = ?",
                    (text(Decimal(price)), token_id), durable=False)

    def copied(self, wallet: str, token_id: str) -> Decimal:
        """Shares of `token_id` we hold because we copied `wallet`, less what unresolved exit
        orders for it are about to sell (so two quick exits cannot sell the same shares)."""
        return self.copied_by_wallet(wallet).get(token_id, ZERO)

    def copied_by_wallet(self, wallet: str) -> dict[str, Decimal]:
        held = {row["token_id"]: Decimal(row["shares"]) for row in self._read(
            "SELECT token_id, shares FROM copied WHERE wallet = ?", (wallet,))}
        for _, token_id, size, _, filled in self._pending(Side.SELL, wallet=wallet):
            if token_id in held:
                held[token_id] -= size - filled
        return {token: max(ZERO, shares) for token, shares in held.items() if shares > 0}

    def target_holding(self, wallet: str, token_id: str) -> Decimal | None:
        with self._lock:
            return _target_holding(self._db, wallet, token_id)

    def set_target_holding(self, wallet: str, token_id: str, shares: Decimal) -> None:
        with self._tx() as db:
            _set_target_holding(db, wallet, token_id, Decimal(shares))

    def _pending(self, side: Side, *, condition_id: str | None = None,
                 wallet: str | None = None) -> list[tuple[str, str, Decimal, Decimal, Decimal]]:
        """Unresolved intents of a side in a market or of a wallet: (id, token, size, limit
        price, filled so far)."""
        with self._lock:
            found = self._open_intents().of_market(side, condition_id) if condition_id \
                else self._open_intents().of_wallet(side, wallet or "")
        return [(o.id, o.token_id, o.size, o.limit_price, o.filled) for o in found
                if wallet is None or o.wallet == wallet]

    def _open_intents(self) -> OpenIntents:
        """Asked for every decision, so read from the table once and then kept current by the
        writes that change an intent (call with the lock held)."""
        if self._open is None:
            self._open = OpenIntents.read(self._db)
        return self._open

    def _refresh_open(self, db: sqlite3.Connection, intent_id: str) -> None:
        """An intent or its orders changed: update the kept copy, inside the transaction (its
        lock: no thread reads in between; a rollback forgets the copy)."""
        if self._open is not None:
            self._open.refresh(db, intent_id)

    def _forget_open(self) -> None:
        """Many intents changed: read them again when next asked (inside the transaction)."""
        self._open = None

    # --- the decision journal ---------------------------------------------------------------

    def decisions(self, since: float | None = None, wallet: str | None = None,
                  reason: str | None = None, limit: int = 1000) -> list[dict]:
        """Journaled decisions, newest first, with what became of the order if one was made."""
        sql = ("SELECT d.id, d.fill_key, d.wallet, d.token_id, d.condition_id, d.action, "
               "d.reason, d.detail, d.side, d.size, d.limit_price, d.decided_at, "
               "i.id AS intent_id, i.status AS intent_status, i.order_id, i.error "
               "FROM decisions d LEFT JOIN intents i ON i.fill_key = d.fill_key WHERE 1 = 1")
        params: list[object] = []
        for clause, value in (("d.decided_at >= ?", since), ("d.wallet = ?", wallet),
                              ("d.reason = ?", reason)):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        sql += " ORDER BY d.decided_at DESC, d.id DESC LIMIT ?"
        params.append(limit)
        journal = []
        for row in self._read(sql, params):
            entry = dict(row)
            entry["size"] = Decimal(entry["size"])
            entry["limit_price"] = _dec(entry["limit_price"])
            journal.append(entry)
        return journal

    def decision_counts(self, since: float) -> dict[str, int]:
        rows = self._read("SELECT reason, COUNT(*) AS n FROM decisions WHERE decided_at >= ? "
                          "GROUP BY reason ORDER BY reason", (since,))
        return {row["reason"]: int(row["n"]) for row in rows}

    # --- flags ------------------------------------------------------------------------------

    def get_flag(self, name: str) -> str | None:
        rows = self._read("SELECT value FROM flags WHERE name = ?", (name,))
        return rows[0]["value"] if rows else None

    def set_flag(self, name: str, value: str | None) -> None:
        """Set a flag, or clear it with None."""
        if value is None:
            self._write("DELETE FROM flags WHERE name = ?", (name,))
        else:
            self._write("INSERT INTO flags (name, value, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
                        "updated_at = excluded.updated_at", (name, value, time.time()),
                    durable=False)

    # --- paper mode's orders ----------------------------------------------------------------

    def paper_order(self, order_id: str) -> PaperOrder | None:
        rows = self._read("SELECT order_id, token_id, side, size, limit_price, order_type, "
                          "status, filled_size, cost, created_at FROM paper_orders "
                          "WHERE order_id = ?", (order_id,))
        if not rows:
            return None
        row = rows[0]
        return PaperOrder(order_id=row["order_id"], token_id=row["token_id"],
                          side=Side(row["side"]), size=Decimal(row["size"]),
                          limit_price=Decimal(row["limit_price"]), order_type=row["order_type"],
                          status=row["status"], filled_size=Decimal(row["filled_size"]),
                          cost=Decimal(row["cost"]), created_at=row["created_at"])

    def save_paper_order(self, order: PaperOrder) -> None:
        self._write(
            """INSERT INTO paper_orders (order_id, token_id, side, size, limit_price, order_type,
                   status, filled_size, cost, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (order_id) DO UPDATE SET status = excluded.status,
                   filled_size = excluded.filled_size, cost = excluded.cost,
                   updated_at = excluded.updated_at""",
            (order.order_id, order.token_id, order.side.value, text(order.size),
             text(order.limit_price), order.order_type, order.status, text(order.filled_size),
             text(order.cost), order.created_at, time.time()))

    def paper_cash_flow(self) -> tuple[Decimal, Decimal]:
        """Paper mode's money: (net pUSD spent on fills, pUSD held by resting buys)."""
        spent = reserved = ZERO
        for row in self._read("SELECT side, size, limit_price, status, filled_size, cost "
                              "FROM paper_orders"):
            cost = Decimal(row["cost"])
            spent += cost if row["side"] == Side.BUY.value else -cost
            if row["side"] == Side.BUY.value and row["status"] == "live":
                reserved += (Decimal(row["size"]) - Decimal(row["filled_size"])) * Decimal(
                    row["limit_price"])
        # a paper redemption pays its winning shares back into the paper balance
        spent -= sum((Decimal(row["payout"]) for row in self._read(
            "SELECT payout FROM redemptions WHERE status = ? AND payout IS NOT NULL", (DONE,))),
            ZERO)
        return spent, reserved

    # --- ops --------------------------------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """Problems found in the file (SQLite's own check and our invariants); [] if sound."""
        with self._lock:
            return integrity.problems(self._db)


def write_failure(exc: BaseException) -> str | None:
    """What an operator must fix when `exc` is the disk refusing a write (full, quota,
    read-only, I/O error); None for any other error."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        for marker, meaning in (("disk is full", "the disk is full"),
                                ("disk i/o error", "disk I/O error (is the disk full?)"),
                                ("readonly database", "the state DB is read-only")):
            if marker in text:
                return meaning
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return "the file system is read-only"
    return None


def _create_private(path: Path) -> None:
    """Create the file readable by its owner only, before SQLite creates it with the umask."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else text(value)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _to_intent(row: sqlite3.Row) -> OrderIntent:
    return OrderIntent(
        id=row["id"], fill_key=row["fill_key"], wallet=row["wallet"], token_id=row["token_id"],
        condition_id=row["condition_id"], side=Side(row["side"]), size=Decimal(row["size"]),
        limit_price=Decimal(row["limit_price"]), order_type=row["order_type"],
        expires_at=row["expires_at"], status=IntentStatus(row["status"]),
        order_id=row["order_id"], created_at=row["created_at"], error=row["error"])


def _to_position(row: sqlite3.Row) -> Position:
    return Position(token_id=row["token_id"], condition_id=row["condition_id"],
                    size=Decimal(row["size"]), cost=Decimal(row["cost"]),
                    realized_pnl=Decimal(row["realized_pnl"]),
                    mark_price=_dec(row["mark_price"]))


def _intent(db: sqlite3.Connection, intent_id: str) -> OrderIntent | None:
    row = db.execute(f"SELECT {_INTENT_COLUMNS} FROM intents WHERE id = ?",
                     (intent_id,)).fetchone()
    return _to_intent(row) if row else None


def _applied_size(db: sqlite3.Connection, intent_id: str) -> Decimal:
    return sum((Decimal(row[0]) for row in db.execute(
        "SELECT filled_size FROM orders WHERE intent_id = ?", (intent_id,))), ZERO)


def _next_status(intent: OrderIntent, result: OrderResult, filled: Decimal) -> IntentStatus:
    """Where an exchange result leaves the intent. Final states stay final, except that an
    intent given up on (FAILED) which turns out to have filled becomes DONE."""
    if intent.status in FINAL:
        return IntentStatus.DONE if filled > 0 else intent.status
    match result.status:
        case "rejected" if result.retryable:
            return intent.status  # the same signed order may still go through
        case "rejected":
            return IntentStatus.DONE if filled > 0 else IntentStatus.FAILED
        case "not_found":
            return intent.status  # never reached the exchange: the caller re-posts it
        case "live" | "delayed":
            return IntentStatus.POSTED
        case "matched" if intent.order_type in ("GTC", "GTD") and filled < intent.size:
            return IntentStatus.POSTED  # the rest still rests on the book
        case _:  # matched, unmatched (killed), canceled
            return IntentStatus.DONE


@dataclass(frozen=True)
class _Fill:
    """The new part of an order's fill, and the order's cumulative totals with it."""

    size: Decimal
    fee: Decimal
    notional: Decimal  # pUSD paid (BUY) or received (SELL) for `size`
    realized_price: Decimal  # the price recorded for the new part
    totals: tuple[Decimal, Decimal, Decimal]  # filled, cost, fee


def _new_fill(intent: OrderIntent, result: OrderResult, fee: Decimal,
              before: tuple[Decimal, Decimal, Decimal]) -> _Fill | None:
    """What a result adds to an order's fill beyond `before` (cumulative); None: nothing."""
    filled_before, cost_before, fee_before = before
    new_size = max(ZERO, result.filled_size - filled_before)
    new_fee = max(ZERO, Decimal(fee) - fee_before)
    if new_size == 0 and new_fee == 0:
        return None
    price = result.avg_price if result.avg_price is not None else intent.limit_price
    total = max(cost_before, q6(result.filled_size * price)) if new_size else cost_before
    notional = total - cost_before
    return _Fill(new_size, new_fee, notional, q6(notional / new_size) if new_size else price,
                 (filled_before + new_size, total, fee_before + new_fee))


def _book_fill(db: sqlite3.Connection, intent: OrderIntent, order_id: str, fill: _Fill,
               now: float) -> None:
    """Move the new part of a fill into our books: position, copied shares, P&L, our_fills."""
    row = db.execute("SELECT size, cost, realized_pnl FROM positions WHERE token_id = ?",
                     (intent.token_id,)).fetchone()
    held = Holding(*(Decimal(v) for v in row)) if row else Holding(ZERO, ZERO, ZERO)
    pnl = ZERO
    if intent.side is Side.BUY:
        held = ledger.buy(held, fill.size, fill.notional, fill.fee)
        _add_copied(db, intent.wallet, intent.token_id, fill.size, now)
    else:
        held, pnl = ledger.sell(held, fill.size, fill.notional, fill.fee)
        _remove_copied(db, intent.wallet, intent.token_id, fill.size, now)
        _add_daily_pnl(db, utc_day(now), pnl)
    db.execute(
        """INSERT INTO positions (token_id, condition_id, size, cost, realized_pnl,
               updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (token_id) DO UPDATE SET size = excluded.size, cost = excluded.cost,
               realized_pnl = excluded.realized_pnl, updated_at = excluded.updated_at""",
        (intent.token_id, intent.condition_id, text(held.size), text(held.cost),
         text(held.realized), now))
    db.execute(
        """INSERT INTO our_fills (order_id, intent_id, token_id, side, size, price, fee,
               realized, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (order_id, intent.id, intent.token_id, intent.side.value, text(fill.size),
         text(fill.realized_price), text(fill.fee), text(pnl), now))


def _target_holding(db: sqlite3.Connection, wallet: str, token_id: str) -> Decimal | None:
    row = db.execute("SELECT shares FROM target_holdings WHERE wallet = ? AND token_id = ?",
                     (wallet, token_id)).fetchone()
    return Decimal(row[0]) if row else None


def _set_target_holding(db: sqlite3.Connection, wallet: str, token_id: str,
                        shares: Decimal) -> None:
    db.execute("INSERT INTO target_holdings (wallet, token_id, shares, updated_at) "
               "VALUES (?, ?, ?, ?) ON CONFLICT (wallet, token_id) DO UPDATE SET "
               "shares = excluded.shares, updated_at = excluded.updated_at",
               (wallet, token_id, text(shares), time.time()))


def _set_copied(db: sqlite3.Connection, wallet: str, token_id: str, shares: Decimal,
                now: float) -> None:
    db.execute("INSERT INTO copied (wallet, token_id, shares, updated_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (wallet, token_id) DO UPDATE SET shares = excluded.shares, "
               "updated_at = excluded.updated_at", (wallet, token_id, text(shares), now))


def _add_copied(db: sqlite3.Connection, wallet: str, token_id: str, size: Decimal,
                now: float) -> None:
    row = db.execute("SELECT shares FROM copied WHERE wallet = ? AND token_id = ?",
                     (wallet, token_id)).fetchone()
    _set_copied(db, wallet, token_id, (Decimal(row[0]) if row else ZERO) + size, now)


def _remove_copied(db: sqlite3.Connection, wallet: str, token_id: str, size: Decimal,
                   now: float) -> None:
    before = {w: Decimal(s) for w, s in db.execute(
        "SELECT wallet, shares FROM copied WHERE token_id = ?", (token_id,))}
    after = ledger.remove_copied(before, wallet, size)
    for each, shares in after.items():
        if shares != before.get(each):
            _set_copied(db, each, token_id, shares, now)


def _add_daily_pnl(db: sqlite3.Connection, day: str, pnl: Decimal) -> None:
    row = db.execute("SELECT realized FROM daily_pnl WHERE day = ?", (day,)).fetchone()
    total = (Decimal(row[0]) if row else ZERO) + pnl
    db.execute("INSERT INTO daily_pnl (day, realized) VALUES (?, ?) ON CONFLICT (day) "
               "DO UPDATE SET realized = excluded.realized", (day, text(total)))
