"""One de-duplicated stream of target fills from the configured sources.

Sources are polled concurrently; a fill is new if its key is neither in the recent in-memory set
nor recorded in the store. The same fill from two sources has one key: whichever source delivers
it first wins (usually the chain), the other's copy is counted as a confirmation and dropped.

Like the sources, the stream is two-step: `poll()` returns new fills, `commit()` (after the engine
stored them) remembers their keys and moves every source's cursors. Without a commit the next poll
delivers the same fills again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from polymarket_bot.models import TargetFill

from .base import CursorStore, Source
from .markets import MarketDirectory, enrich

log = logging.getLogger(__name__)

SourceMode = Literal["data_api", "chain", "both"]
RECENT_KEYS = 200_000  # ~10 MB; older keys are answered by the store


@dataclass
class StreamStats:
    polls: int = 0
    first: Counter[str] = field(default_factory=Counter)  # new fills, by the source that won
    confirmed: Counter[str] = field(default_factory=Counter)  # duplicates, by the late source
    # seconds the winner was ahead, by (winner, late source): how much the chain saves
    lead: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    source_failures: Counter[str] = field(default_factory=Counter)

    def add_lead(self, winner: str, late: str, seconds: float) -> None:
        leads = self.lead.setdefault((winner, late), [])
        leads.append(seconds)
        if len(leads) > 10_000:
            del leads[:5_000]


def _order(fill: TargetFill) -> tuple[float, str, int, str]:
    return (fill.timestamp, fill.tx_hash, fill.log_index if fill.log_index is not None else -1,
            fill.key)


class FillStream:
    name = "stream"

    def __init__(self, sources: Sequence[Source], store: CursorStore, *,
                 markets: MarketDirectory | None = None) -> None:
        if not sources:
            raise ValueError("a fill stream needs at least one source")
        self.sources = list(sources)
        self.store = store
        self.markets = markets
        # key -> (source that delivered it, detected_at): the recent part of "seen"
        self._recent: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._pending: list[TargetFill] = []
        self._failed: set[str] = set()  # sources whose last poll raised: not committed
        self.stats = StreamStats()

    @property
    def failed_sources(self) -> frozenset[str]:
        """Sources whose last poll raised (their cursors are not committed)."""
        return frozenset(self._failed)

    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        self.stats.polls += 1
        results = await asyncio.gather(*(s.poll(wallets) for s in self.sources),
                                       return_exceptions=True)
        batch: list[TargetFill] = []
        self._failed = set()
        for source, result in zip(self.sources, results, strict=True):
            if isinstance(result, BaseException):
                self._failed.add(source.name)
                # a source bug must not stop the other source; its cursor is not committed
                self.stats.source_failures[source.name] += 1
                log.error("source %s failed: %r", source.name, result)
                continue
            batch.extend(result)
        # earliest detection first, so the winner is the source that really saw it first
        batch.sort(key=lambda f: (f.detected_at, f.source != "chain"))
        fresh: dict[str, TargetFill] = {}
        for fill in batch:
            if fill.key in fresh:
                self._confirm(fill, fresh[fill.key].source, fresh[fill.key].detected_at)
            elif fill.key in self._recent:
                source, detected_at = self._recent[fill.key]
                self._confirm(fill, source, detected_at)
            else:
                fresh[fill.key] = fill
        if fresh:
            for key in self.store.seen(list(fresh)):
                self.stats.confirmed[fresh.pop(key).source] += 1
        fills = sorted(fresh.values(), key=_order)
        if self.markets is not None and fills:
            fills = await enrich(fills, self.markets)
        self._pending = fills
        return fills

    def _confirm(self, fill: TargetFill, winner: str, detected_at: float) -> None:
        self.stats.confirmed[fill.source] += 1
        if winner != fill.source:
            self.stats.add_lead(winner, fill.source, fill.detected_at - detected_at)

    def commit(self) -> None:
        """The engine stored the last poll's fills: remember them and move the cursors."""
        for fill in self._pending:
            self.stats.first[fill.source] += 1
            self._recent[fill.key] = (fill.source, fill.detected_at)
        while len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)
        self._pending = []
        for source in self.sources:
            if source.name not in self._failed:
                source.commit()

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()
        if self.markets is not None:
            await self.markets.aclose()


def build_sources(mode: SourceMode, *, data_api: Source | None = None,
                  chain: Source | None = None) -> list[Source]:
    """The sources of a mode, chain first (it is usually first to see a fill)."""
    wanted = {"data_api": [data_api], "chain": [chain], "both": [chain, data_api]}[mode]
    if any(s is None for s in wanted):
        raise ValueError(f"source mode {mode!r} needs {'both sources' if mode == 'both' else mode}")
    return [s for s in wanted if s is not None]
