"""Everything the node mined, rendered as JSON-RPC objects and indexed for reads.

Written by the EVM thread once per block, read by the HTTP handlers without touching py-evm, so a
burst of `eth_getLogs` never waits behind the EVM. Logs are kept in one list in chain order with
posting lists per (topic position, value) and per address: a bot's query "OrderFilled with topic2 in
my targets over these blocks" reads only the matching logs instead of scanning every fill.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


class QueryTooLarge(Exception):
    """A log query over too many blocks or with too many results (the RPC answers -32005)."""


@dataclass(frozen=True, slots=True)
class IndexedLog:
    block: int
    address: str  # lowercase 0x…
    topics: tuple[str, ...]  # lowercase 0x… words
    json: Json


@dataclass
class MinedBlock:
    header: Json  # without "transactions"
    tx_hashes: list[str]


class ChainIndex:
    def __init__(self, max_block_range: int = 10_000, max_results: int = 10_000) -> None:
        self.max_block_range = max_block_range
        self.max_results = max_results
        self._lock = threading.Lock()
        self._blocks: list[MinedBlock] = []
        self._by_hash: dict[str, int] = {}
        self._txs: dict[str, Json] = {}
        self._receipts: dict[str, Json] = {}
        self._logs: list[IndexedLog] = []
        self._log_start: list[int] = [0]  # first log of block n is _logs[_log_start[n]]
        self._by_topic: list[defaultdict[str, list[int]]] = [defaultdict(list) for _ in range(4)]
        self._by_address: defaultdict[str, list[int]] = defaultdict(list)

    @property
    def head(self) -> int:
        """Number of the newest block, -1 before genesis is indexed."""
        return len(self._blocks) - 1

    def add_block(self, header: Json, txs: list[Json], receipts: list[Json],
                  logs: list[IndexedLog]) -> None:
        """Publish one mined block; the caller adds blocks in order."""
        with self._lock:
            for tx, receipt in zip(txs, receipts, strict=True):
                self._txs[tx["hash"]] = tx
                self._receipts[tx["hash"]] = receipt
            for log in logs:
                position = len(self._logs)
                self._logs.append(log)
                self._by_address[log.address].append(position)
                for i, topic in enumerate(log.topics[:4]):
                    self._by_topic[i][topic].append(position)
            self._log_start.append(len(self._logs))
            self._by_hash[header["hash"]] = len(self._blocks)
            # last: readers bound everything by the block count
            self._blocks.append(MinedBlock(header, [tx["hash"] for tx in txs]))

    # --- blocks and transactions -----------------------------------------------------------------

    def block_number_of(self, block_hash: str) -> int | None:
        return self._by_hash.get(block_hash.lower())

    def block(self, number: int, full: bool = False) -> Json | None:
        if not 0 <= number < len(self._blocks):
            return None
        mined = self._blocks[number]
        txs: list[Any] = [self._txs[h] for h in mined.tx_hashes] if full else list(mined.tx_hashes)
        return {**mined.header, "transactions": txs}

    def timestamp(self, number: int) -> int:
        return int(self._blocks[number].header["timestamp"], 16)

    def transaction(self, tx_hash: str) -> Json | None:
        return self._txs.get(tx_hash.lower())

    def receipt(self, tx_hash: str) -> Json | None:
        return self._receipts.get(tx_hash.lower())

    def block_receipts(self, number: int) -> list[Json] | None:
        if not 0 <= number < len(self._blocks):
            return None
        return [self._receipts[h] for h in self._blocks[number].tx_hashes]

    # --- logs ------------------------------------------------------------------------------------

    def logs(self, first: int, last: int, addresses: set[str] | None = None,
             topics: list[set[str] | None] | None = None) -> list[Json]:
        """Logs of blocks first..last (inclusive) matching the filter, in chain order.

        `addresses` and each topic position are OR-sets of lowercase hex (None = any); a filter
        with more topic positions than a log has does not match it, as in geth.
        """
        if last - first + 1 > self.max_block_range:
            raise QueryTooLarge(
                f"query exceeds max block range {self.max_block_range}")
        with self._lock:
            last = min(last, len(self._blocks) - 1)
            if first > last:
                return []
            lo, hi = self._log_start[first], self._log_start[last + 1]
            topics = topics or []
            out = []
            for position in self._candidates(lo, hi, addresses, topics):
                log = self._logs[position]
                if addresses is not None and log.address not in addresses:
                    continue
                if len(topics) > len(log.topics):
                    continue
                if any(want is not None and log.topics[i] not in want
                       for i, want in enumerate(topics)):
                    continue
                out.append(log.json)
                if len(out) > self.max_results:
                    raise QueryTooLarge(
                        f"query returned more than {self.max_results} results")
            return out

    def _candidates(self, lo: int, hi: int, addresses: set[str] | None,
                    topics: list[set[str] | None]) -> Iterable[int]:
        """Log positions in [lo, hi) worth checking: the smallest posting list that applies."""
        best: list[list[int]] | None = None
        best_size = hi - lo
        lists = [[self._by_topic[i].get(v, []) for v in want]
                 for i, want in enumerate(topics[:4]) if want is not None]
        if addresses is not None:
            lists.append([self._by_address.get(a, []) for a in addresses])
        for postings in lists:
            size = sum(bisect_left(p, hi) - bisect_left(p, lo) for p in postings)
            if size < best_size:
                best, best_size = postings, size
        if best is None:
            return range(lo, hi)
        if len(best) == 1:
            p = best[0]
            return p[bisect_left(p, lo):bisect_left(p, hi)]
        merged: set[int] = set()
        for p in best:
            merged.update(p[bisect_left(p, lo):bisect_left(p, hi)])
        return sorted(merged)
