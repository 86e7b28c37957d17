"""The state file for operator commands: read-only, as the trader left it.

Opened with SQLite's `mode=ro`: no schema migration, no file created, and every write refused
by SQLite itself, so a report run as root or by another release can never change the trader's
state. WAL mode lets it read while the trader writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from polymarket_bot.state.store import Store

# What reading or writing the state file raises (besides OSError): callers outside state/
# catch this name and never need to know the database engine.
StoreError = sqlite3.Error


class ReadOnlyStore(Store):
    """`Store`'s reads on an existing file; FileNotFoundError when there is none."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        super().__init__(path, busy_timeout=busy_timeout, read_only=True)
