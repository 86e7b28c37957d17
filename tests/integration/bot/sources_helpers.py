"""Shared steering for the detection tests: markets, injected target trades, waiting for blocks."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx

from polymarket_bot.models import TargetFill
from polymarket_bot.sources import (
    ChainConfig,
    ChainSource,
    CursorStore,
    DataApiConfig,
    DataApiSource,
    MemoryCursorStore,
    Source,
)
from polymarket_sim.app import RunningSim

WHALE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
MAKER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
QUIET = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
TARGETS_ALL = [WHALE, MAKER, QUIET]

MARKETS = {"name": "sources", "markets": [
    {"slug": "rain", "outcomes": [
        {"name": "Yes", "bids": [[0.47, 1000]], "asks": [[0.53, 1000]]},
        {"name": "No", "bids": [[0.46, 1000]], "asks": [[0.52, 1000]]}]},
    {"slug": "lakers-celtics", "outcomes": [
        {"name": "Lakers", "bids": [[0.40, 1000]], "asks": [[0.42, 1000]]},
        {"name": "Celtics", "bids": [[0.57, 1000]], "asks": [[0.60, 1000]]}]},
    {"slug": "fed-cut", "neg_risk": True, "tick_size": "0.001", "outcomes": [
        {"name": "Yes", "bids": [[0.612, 1000]], "asks": [[0.618, 1000]]},
        {"name": "No", "bids": [[0.380, 1000]], "asks": [[0.388, 1000]]}]},
]}

# (trader, market, outcome, side, price, size, role): taker and maker fills, named outcomes, a
# neg-risk market, a partial sell
DAY = [
    (WHALE, "rain", "Yes", "BUY", 0.53, 100, "taker"),
    (WHALE, "lakers-celtics", "Celtics", "BUY", 0.60, 40, "taker"),
    (MAKER, "lakers-celtics", "Lakers", "BUY", 0.41, 30, "maker"),
    (WHALE, "fed-cut", "Yes", "BUY", 0.618, 25, "taker"),
    (WHALE, "rain", "Yes", "SELL", 0.47, 60, "taker"),
]


def load_markets(sim: RunningSim) -> None:
    response = httpx.post(f"{sim.urls['admin']}/scenario", json=MARKETS)
    assert response.status_code == 200, response.text


def token(sim: RunningSim, slug: str, outcome: str) -> str:
    market = next(m for m in sim.sim.markets if m.slug == slug)
    return next(o.token_id for o in market.outcomes if o.name == outcome)


def inject(sim: RunningSim, trader: str, market: str, outcome: str, side: str, price: float,
           size: float, role: str = "taker") -> dict[str, Any]:
    response = httpx.post(f"{sim.urls['admin']}/trades", json={
        "trader": trader, "market": market, "outcome": outcome, "side": side, "price": price,
        "size": size, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


def confirmed_matches(sim: RunningSim, expected: int) -> list[dict[str, Any]]:
    """Wait until the simulator mined at least `expected` matches, all of them."""
    deadline = time.monotonic() + 30
    matches: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        matches = httpx.get(f"{sim.urls['admin']}/matches").json()
        if len(matches) >= expected and all(m["status"] == "CONFIRMED" for m in matches):
            return matches
        time.sleep(0.05)
    raise AssertionError(f"matches not confirmed in time: {matches}")


def fault(sim: RunningSim, **spec: Any) -> None:
    response = httpx.post(f"{sim.urls['admin']}/faults", json=spec)
    assert response.status_code == 201, response.text


def clear_faults(sim: RunningSim) -> None:
    httpx.delete(f"{sim.urls['admin']}/faults")


def stall(sim: RunningSim, on: bool) -> int:
    return httpx.post(f"{sim.urls['admin']}/chain/stall", json={"on": on}).json()["block_number"]


def data_source(sim: RunningSim, store: CursorStore,
                clock: Callable[[], float] = time.time, **config: Any) -> DataApiSource:
    config.setdefault("backoff_base", 0.0)
    config.setdefault("timeout", 2.0)
    return DataApiSource(DataApiConfig(base_url=sim.urls["data"], **config), store, clock=clock)


def chain_source(sim: RunningSim, store: CursorStore,
                 clock: Callable[[], float] = time.time, **config: Any) -> ChainSource:
    config.setdefault("confirmations", 0)
    config.setdefault("timeout", 2.0)
    return ChainSource(ChainConfig(rpc_url=sim.urls["rpc"], **config), store, clock=clock)


async def collect(source: Source, wallets: Sequence[str], expected: int,
                  store: MemoryCursorStore | SqliteStore | None = None, timeout: float = 20.0,
                  ) -> list[TargetFill]:
    """Poll (and commit) until `expected` fills arrived, then one more poll that must add none."""
    fills: list[TargetFill] = []
    deadline = time.monotonic() + timeout
    while len(fills) < expected:
        assert time.monotonic() < deadline, f"{source.name}: {len(fills)}/{expected} fills"
        batch = await source.poll(wallets)
        if store is not None:
            store.record(batch)
        source.commit()
        fills.extend(batch)
        if len(fills) < expected:
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    extra = await source.poll(wallets)
    source.commit()
    assert extra == [], f"{source.name} delivered more than expected: {extra}"
    return fills


async def start(source: Source, wallets: Sequence[str]) -> None:
    """First start: learns where 'now' is and must deliver nothing."""
    assert await source.poll(wallets) == []
    source.commit()


def essence(fill: TargetFill) -> tuple:
    """What both sources must agree on for one fill."""
    return (fill.key, fill.wallet, fill.tx_hash, fill.token_id, fill.side, fill.size,
            fill.usdc_size, fill.price, fill.timestamp)


class SqliteStore:
    """Cursors and seen keys in SQLite as the bot's `Store` keeps them: survives a restart."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value TEXT)")
        self.db.execute("CREATE TABLE IF NOT EXISTS fills (key TEXT PRIMARY KEY)")
        self.db.commit()

    def get_cursor(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def set_cursor(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO cursors VALUES (?, ?)", (name, value))
        self.db.commit()

    def seen(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        marks = ",".join("?" * len(keys))
        return {r[0] for r in self.db.execute(f"SELECT key FROM fills WHERE key IN ({marks})",
                                              keys)} if keys else set()

    def record(self, fills: Iterable[TargetFill]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO fills VALUES (?)", [(f.key,) for f in fills])
        self.db.commit()

    def close(self) -> None:
        self.db.close()
