"""Durable state: the SQLite file that makes detection → order exactly-once across crashes."""

from polymarket_bot.state.store import PaperOrder, Store, utc_day

__all__ = ["PaperOrder", "Store", "utc_day"]
