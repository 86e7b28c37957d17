"""The state file's schema, as a list of numbered migrations that only ever ADD things.

Rolling back a release must not need a database restore: the previous release opens a file that
a newer one migrated, finds tables, columns and a version number it does not know, and keeps
working. That holds as long as every migration is additive (new tables, new nullable or defaulted
columns, new indexes) and the code names its columns instead of relying on their order. `migrate`
refuses anything else, so a destructive statement cannot slip into a future migration.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


# CREATE TABLE/INDEX IF NOT EXISTS, or ALTER TABLE ... ADD COLUMN: nothing that drops, renames,
# rewrites or constrains data an older release may still write.
_ADDITIVE = re.compile(
    r"^\s*(CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s"
    r"|CREATE\s+(UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s"
    r"|ALTER\s+TABLE\s+\w+\s+ADD\s+COLUMN\s)",
    re.IGNORECASE)
# A column added later must not be NOT NULL without a default: older code would not fill it.
_ADD_NOT_NULL = re.compile(r"ADD\s+COLUMN\s.*\bNOT\s+NULL\b(?!.*\bDEFAULT\b)",
                           re.IGNORECASE | re.DOTALL)


def check_additive(migration: Migration) -> None:
    """Raise ValueError unless every statement of the migration is additive."""
    for statement in migration.statements:
        if not _ADDITIVE.match(statement) or _ADD_NOT_NULL.search(statement) or ";" in statement:
            raise ValueError(f"migration {migration.version} ({migration.name}) is not additive: "
                             f"{statement.strip().splitlines()[0]}")


_INITIAL = (
    """CREATE TABLE IF NOT EXISTS cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS target_fills (
        key TEXT PRIMARY KEY,
        wallet TEXT NOT NULL,
        source TEXT NOT NULL,
        tx_hash TEXT NOT NULL,
        log_index INTEGER,
        block_number INTEGER,
        ts REAL NOT NULL,
        token_id TEXT NOT NULL,
        condition_id TEXT,
        outcome TEXT,
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        price TEXT NOT NULL,
        usdc_size TEXT NOT NULL,
        detected_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS target_fills_wallet_ts ON target_fills (wallet, ts)",
    """CREATE TABLE IF NOT EXISTS decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        fill_key TEXT NOT NULL REFERENCES target_fills (key),
        wallet TEXT NOT NULL,
        token_id TEXT NOT NULL,
        condition_id TEXT,
        action TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        limit_price TEXT,
        decided_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS decisions_decided_at ON decisions (decided_at)",
    "CREATE INDEX IF NOT EXISTS decisions_fill_key ON decisions (fill_key)",
    "CREATE INDEX IF NOT EXISTS decisions_wallet ON decisions (wallet, decided_at)",
    "CREATE INDEX IF NOT EXISTS decisions_reason ON decisions (reason, decided_at)",
    """CREATE TABLE IF NOT EXISTS intents (
        id TEXT PRIMARY KEY,
        fill_key TEXT NOT NULL UNIQUE REFERENCES target_fills (key),
        wallet TEXT NOT NULL,
        token_id TEXT NOT NULL,
        condition_id TEXT NOT NULL,
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        limit_price TEXT NOT NULL,
        order_type TEXT NOT NULL,
        expires_at REAL,
        status TEXT NOT NULL,
        order_id TEXT,
        signed_order TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS intents_status ON intents (status)",
    "CREATE INDEX IF NOT EXISTS intents_created_at ON intents (created_at)",
    "CREATE INDEX IF NOT EXISTS intents_wallet_condition ON intents (wallet, condition_id)",
    "CREATE INDEX IF NOT EXISTS intents_order_id ON intents (order_id)",
    # One row per order: the fill already applied to our books (what makes apply idempotent).
    """CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY,
        intent_id TEXT NOT NULL REFERENCES intents (id),
        status TEXT NOT NULL,
        filled_size TEXT NOT NULL,
        cost TEXT NOT NULL,
        fee TEXT NOT NULL,
        avg_price TEXT,
        updated_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS orders_intent ON orders (intent_id)",
    # One row per applied increment of a fill: positions are the sum of these.
    """CREATE TABLE IF NOT EXISTS our_fills (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL REFERENCES orders (order_id),
        intent_id TEXT NOT NULL REFERENCES intents (id),
        token_id TEXT NOT NULL,
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        realized TEXT NOT NULL,
        ts REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS our_fills_token ON our_fills (token_id)",
    "CREATE INDEX IF NOT EXISTS our_fills_order ON our_fills (order_id)",
    """CREATE TABLE IF NOT EXISTS positions (
        token_id TEXT PRIMARY KEY,
        condition_id TEXT NOT NULL,
        size TEXT NOT NULL,
        cost TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        mark_price TEXT,
        updated_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS positions_condition ON positions (condition_id)",
    """CREATE TABLE IF NOT EXISTS copied (
        wallet TEXT NOT NULL,
        token_id TEXT NOT NULL,
        shares TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (wallet, token_id))""",
    """CREATE TABLE IF NOT EXISTS target_holdings (
        wallet TEXT NOT NULL,
        token_id TEXT NOT NULL,
        shares TEXT NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (wallet, token_id))""",
    """CREATE TABLE IF NOT EXISTS daily_pnl (
        day TEXT PRIMARY KEY,
        realized TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS flags (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL)""",
    # Paper mode's simulated orders, so a lookup after a restart answers as before.
    """CREATE TABLE IF NOT EXISTS paper_orders (
        order_id TEXT PRIMARY KEY,
        token_id TEXT NOT NULL,
        side TEXT NOT NULL,
        size TEXT NOT NULL,
        limit_price TEXT NOT NULL,
        order_type TEXT NOT NULL,
        status TEXT NOT NULL,
        filled_size TEXT NOT NULL,
        cost TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL)""",
)

# A market's end: the payout each of its tokens got, the positions it closed (what they held and
# the P&L booked), and the redemption that turns winning tokens into pUSD, exactly once.
_RESOLUTION = (
    """CREATE TABLE IF NOT EXISTS resolutions (
        condition_id TEXT PRIMARY KEY,
        payouts TEXT NOT NULL,
        neg_risk INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL,
        resolved_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS resolved_positions (
        token_id TEXT PRIMARY KEY,
        condition_id TEXT NOT NULL,
        shares TEXT NOT NULL,
        cost TEXT NOT NULL,
        payout_price TEXT NOT NULL,
        payout TEXT NOT NULL,
        pnl TEXT NOT NULL,
        resolved_at REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS resolved_positions_condition ON resolved_positions (condition_id)",
    # what a human calls a token (the dashboard and alerts show these, never bare token ids)
    """CREATE TABLE IF NOT EXISTS market_names (
        token_id TEXT PRIMARY KEY,
        condition_id TEXT NOT NULL,
        question TEXT NOT NULL,
        outcome TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS redemptions (
        condition_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        route TEXT NOT NULL,
        expected TEXT NOT NULL,
        tx_hash TEXT,
        nonce INTEGER,
        raw_tx TEXT,
        payout TEXT,
        error TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL)""",
)

# asked for every decision: an index alone answers "copies in the last hour" (no row read per
# intent) and "our last copy of this wallet in this market" (the newest entry, not a scan)
_DECISION_READS = (
    "CREATE INDEX IF NOT EXISTS intents_created_status ON intents (created_at, status)",
    "CREATE INDEX IF NOT EXISTS intents_wallet_condition_created "
    "ON intents (wallet, condition_id, created_at)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial", _INITIAL),
    Migration(2, "resolution", _RESOLUTION),
    Migration(3, "decision reads", _DECISION_READS),
)


def migrate(db: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations this release knows and the file lacks; return the file's version.

    A file a newer release migrated has versions beyond ours: that is fine (they only added
    things) and is logged, never "fixed".
    """
    for migration in migrations:
        check_additive(migration)
    db.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)""")
    for migration in sorted(migrations, key=lambda m: m.version):
        db.execute("BEGIN IMMEDIATE")
        try:
            # checked inside the write lock: another process may have just applied it
            done = db.execute("SELECT 1 FROM schema_migrations WHERE version = ?",
                              (migration.version,)).fetchone()
            if not done:
                for statement in migration.statements:
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations (version, name, applied_at) "
                            "VALUES (?, ?, ?)", (migration.version, migration.name, time.time()))
                log.info("state schema migrated to version %d (%s)", migration.version,
                         migration.name)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    version = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
    known = max((m.version for m in migrations), default=0)
    if version > known:
        log.warning("state schema version %d is newer than this release knows (%d): running "
                    "on it unchanged (migrations are additive)", version, known)
    return version


def schema_version(db: sqlite3.Connection) -> int:
    """The file's schema version without migrating it; 0 when no release has migrated it."""
    try:
        return int(db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        return 0
