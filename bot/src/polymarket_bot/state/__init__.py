"""Durable state: the SQLite file that makes detection → order exactly-once across crashes.

Only this package knows the tables: everything else reads and writes through `Store` (the
trader, and operator commands that change state), `ReadOnlyStore` (operator reports) and
`files` (backup, restore and checks of whole database files).
"""

from polymarket_bot.state.reads import ReadOnlyStore, StoreError
from polymarket_bot.state.store import PaperOrder, Store, utc_day

__all__ = ["PaperOrder", "ReadOnlyStore", "Store", "StoreError", "utc_day"]
