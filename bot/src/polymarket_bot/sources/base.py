"""What every detection source promises the engine, and the persistence it needs.

The engine drives a source in two steps so that a crash can re-deliver but never lose a fill:

    fills = await source.poll(wallets)   # reads from the COMMITTED cursors, stages new ones
    store.record(fills)                  # the engine makes the fills durable first
    source.commit()                      # only then do the cursors move

A poll that is not followed by `commit()` is forgotten: the next poll starts again from the
committed cursors and returns the same fills, which the stream drops by key if they were stored.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from eth_utils import is_address, to_checksum_address

from polymarket_bot.models import TargetFill

log = logging.getLogger(__name__)


class CursorStore(Protocol):
    """The part of the bot's state store the sources use (the SQLite `Store` implements it)."""

    def get_cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...

    def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of these fill keys are already recorded."""
        ...


@runtime_checkable
class Source(Protocol):
    name: str

    @property
    def last_success(self) -> float | None:
        """Unix time of the last poll that reached the upstream and read fresh data."""
        ...

    @property
    def errors(self) -> int:
        """Failed upstream calls and rejected records since start (monotonic, for health)."""
        ...

    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        """New fills of these wallets since the committed cursors; stages the next cursors."""
        ...

    def commit(self) -> None:
        """Persist the cursors staged by the last poll (after the engine stored its fills)."""
        ...

    async def aclose(self) -> None: ...


class MemoryCursorStore:
    """A `CursorStore` kept in memory: for tests, benchmarks and one-off runs without state."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.keys: set[str] = set()

    def get_cursor(self, name: str) -> str | None:
        return self.cursors.get(name)

    def set_cursor(self, name: str, value: str) -> None:
        self.cursors[name] = value

    def seen(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.keys}

    def record(self, fills: Iterable[TargetFill]) -> None:
        self.keys.update(f.key for f in fills)


@dataclass
class Health:
    """Counters every source exposes; `errors` only grows, `consecutive_errors` resets."""

    last_success: float | None = None
    errors: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    rejected_records: int = 0
    dropped_old: int = 0  # fills older than max-age found while catching up

    def ok(self) -> None:
        self.last_success = time.time()
        self.consecutive_errors = 0

    def fail(self, what: str) -> None:
        self.errors += 1
        self.consecutive_errors += 1
        self.last_error = what

    def reject(self, what: str) -> None:
        self.rejected_records += 1
        self.fail(what)


class HealthReporting:
    """`last_success` and `errors` of the `Source` protocol, read from a source's `health`."""

    health: Health

    @property
    def last_success(self) -> float | None:
        return self.health.last_success

    @property
    def errors(self) -> int:
        return self.health.errors


@dataclass
class PollReport:
    """What one poll did, for the log line and for tests: nothing here is needed to recover."""

    source: str
    fills: int = 0
    dropped_old: int = 0
    oldest_dropped: float | None = None  # unix time of the oldest fill dropped as too old
    failed: list[str] = field(default_factory=list)  # wallets (or "rpc") that failed
    errors: list[str] = field(default_factory=list)  # what went wrong, in order
    rejected: int = 0
    skipped_backoff: int = 0
    notes: list[str] = field(default_factory=list)

    def drop(self, timestamp: float) -> None:
        self.dropped_old += 1
        if self.oldest_dropped is None or timestamp < self.oldest_dropped:
            self.oldest_dropped = timestamp

    def log(self) -> None:
        if self.dropped_old:
            log.warning("%s: dropped %d fills older than max-age while catching up "
                        "(oldest at %s)", self.source, self.dropped_old, self.oldest_dropped)
        if self.failed or self.rejected:
            log.warning("%s: no fills this cycle for %d target(s) (first error: %s); "
                        "rejected %d record(s)", self.source, len(self.failed),
                        self.errors[0] if self.errors else "-", self.rejected)


class UpstreamError(Exception):
    """An upstream call that gave no usable answer (HTTP error, timeout, garbage)."""

    def __init__(self, message: str, retry_after: float | None = None,
                 rate_limited: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        self.status = status  # the HTTP status, when there was one


def checksummed(wallets: Iterable[str]) -> list[str]:
    """Valid addresses checksummed, in order, without duplicates; invalid ones logged and left out.

    Configuration validates addresses already; this keeps a bad one from reaching a query. Cached:
    checksumming costs ~0.1 ms an address, which for 1,000 targets polled twice a second would be
    a fifth of a core.
    """
    wallets = tuple(w if isinstance(w, str) else repr(w) for w in wallets)
    return list(_checksummed(wallets))


@functools.lru_cache(maxsize=16)
def _checksummed(wallets: tuple[str, ...]) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for wallet in wallets:
        if is_address(wallet):
            out[to_checksum_address(wallet)] = None
        else:
            log.error("ignoring invalid target wallet address %r", wallet)
    return tuple(out)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
