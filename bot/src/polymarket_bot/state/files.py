"""Whole state files: copy one online, count what it holds, check it (backup and restore).

The file operations around them (manifests, locks, retention) belong to the `backup` and
`restore` commands; what a database file contains is known here only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from polymarket_bot.state import integrity
from polymarket_bot.state.schema import schema_version


@contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        yield db


def _tables(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]


def copy_database(source: Path, target: Path, *, timeout: float = 5.0) -> None:
    """A consistent copy of `source` taken while others may write it (SQLite's online backup),
    as one self-contained file: no WAL to carry around next to it."""
    with closing(sqlite3.connect(source, timeout=timeout)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")


def contents(path: Path) -> tuple[dict[str, int], int]:
    """(rows per table, schema version) of a state file."""
    with _read_only(path) as db:
        return ({name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                 for name in _tables(db)}, schema_version(db))


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: what "identical data" is compared on."""
    with _read_only(path) as db:
        return {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for name in _tables(db)}


def problems(path: Path) -> list[str]:
    """SQLite's integrity check plus the store's invariants; [] when the file is sound."""
    try:
        with _read_only(path) as db:
            return integrity.problems(db)
    except sqlite3.DatabaseError as exc:
        return [f"sqlite: {exc}"]
