"""Detection by polling the Data API's `/activity?type=TRADE` for every target.

Per wallet a persisted cursor `{t, k}`: `t` is the newest fill time processed and `k` the keys of
the fills in the last `overlap` seconds before it. Each poll asks for `start = t - overlap` (an
inclusive whole second, so a transaction's fills are always complete), drops what `k` already
holds and delivers the rest. The overlap catches rows the indexer publishes late; the key set
keeps it from delivering anything twice.

- First start (no cursor): learn the recent window, deliver nothing: history is never copied.
- After downtime: only fills younger than `max_age` are delivered; older ones found in the last
  `report_window` before that are dropped, counted and logged; older still are not even fetched.
- Any failure for a wallet (429, 5xx, timeout, garbage) → no fills for it this cycle, its cursor
  stays, an error is counted and the wallet backs off exponentially; a 429 pauses the shared
  limiter for everyone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from polymarket_bot.models import TargetFill

from .base import (
    CursorStore,
    Health,
    HealthReporting,
    PollReport,
    UpstreamError,
    checksummed,
    dumps,
)
from .http import Http, get_json
from .ratelimit import TokenBucket
from .records import ActivityRecord, Rejected, not_a_trade, parse_record, to_fills

log = logging.getLogger(__name__)


class DataApiConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = "https://data-api.polymarket.com"
    api_version: Literal["v1", "v2"] = "v1"
    page_limit: int = Field(default=500, ge=1, le=1000)  # v1 caps at 500, v2 at 1000
    # v1 refuses deeper pages: "max historical activity offset of 5000 exceeded"
    max_offset: int = Field(default=5000, ge=0)
    concurrency: int = Field(default=16, ge=1)
    requests_per_10s: int = Field(default=500, ge=1)  # only when no shared limiter is given
    timeout: float = Field(default=5.0, gt=0)
    max_age: float = Field(default=600.0, gt=0)  # seconds: older fills are not copied
    overlap: int = Field(default=30, ge=0)  # seconds re-read each poll for late-indexed rows
    report_window: float = Field(default=3600.0, ge=0)  # how far past max_age drops are counted
    backoff_base: float = Field(default=1.0, ge=0)
    backoff_max: float = Field(default=60.0, ge=0)


@dataclass
class WalletCursor:
    t: int  # newest fill time processed (unix seconds)
    keys: dict[str, int] = field(default_factory=dict)  # key -> timestamp, for ts >= t - overlap

    def dump(self) -> str:
        return dumps({"v": 1, "t": self.t, "k": self.keys})

    @classmethod
    def load(cls, raw: str) -> WalletCursor:
        data = json.loads(raw)
        keys = data["k"]
        if not isinstance(data["t"], int) or not isinstance(keys, dict):
            raise ValueError("bad cursor shape")
        return cls(int(data["t"]), {str(k): int(v) for k, v in keys.items()})


def cursor_name(wallet: str) -> str:
    return f"data_api:{wallet.lower()}"


class DataApiSource(HealthReporting):
    name = "data_api"

    def __init__(self, config: DataApiConfig, store: CursorStore, *,
                 session: aiohttp.ClientSession | None = None,
                 limiter: TokenBucket | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.store = store
        self.limiter = limiter or TokenBucket(config.requests_per_10s, 10.0)
        self._http = Http(session, connections=config.concurrency)
        self._clock = clock
        self._sem = asyncio.Semaphore(config.concurrency)
        self._committed: dict[str, WalletCursor | None] = {}
        self._staged: dict[str, WalletCursor] = {}
        self._backoff: dict[str, tuple[int, float]] = {}  # wallet -> (failures, retry at)
        self._outage: set[str] = set()  # wallets backing off because the whole API failed
        self.health = Health()
        self.last_report: PollReport | None = None
        self.requests = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- the cycle ---------------------------------------------------------------------------

    async def poll(self, wallets: Sequence[str]) -> list[TargetFill]:
        """One cycle. Per-wallet backoff spares an API that fails for one wallet; an outage of
        the whole API is different: while every wallet backs off, the one due soonest is asked
        anyway (one request a poll), and the first answer ends every wallet's outage backoff,
        so detection is back within one poll interval of the API answering again."""
        self._staged = {}
        report = PollReport(self.name)
        now = time.monotonic()
        due, waiting = [], []
        for wallet in checksummed(wallets):
            (waiting if self._backoff.get(wallet, (0, 0.0))[1] > now else due).append(wallet)
        if not due and waiting:
            probe = min(waiting, key=lambda wallet: self._backoff[wallet][1])
            waiting.remove(probe)
            due.append(probe)
        results = await asyncio.gather(*(self._poll_wallet(w, report) for w in due))
        failed = set(report.failed)
        if due and failed.issuperset(due):
            self._outage.update(due)
        elif self._outage:  # the API answers again: what backed off for the outage goes now
            back = [wallet for wallet in waiting if wallet in self._outage]
            self._outage.clear()
            waiting = [wallet for wallet in waiting if wallet not in back]
            results += await asyncio.gather(*(self._poll_wallet(w, report) for w in back))
        report.skipped_backoff = len(waiting)
        fills = [fill for batch in results for fill in batch]
        report.fills = len(fills)
        self.last_report = report
        report.log()
        return fills

    def commit(self) -> None:
        for wallet, cursor in self._staged.items():
            if self._committed.get(wallet) != cursor:  # a quiet wallet costs no write
                self.store.set_cursor(cursor_name(wallet), cursor.dump())
                self._committed[wallet] = cursor
        self._staged = {}

    async def _poll_wallet(self, wallet: str, report: PollReport) -> list[TargetFill]:
        async with self._sem:
            try:
                cursor = self._cursor(wallet)
                now = self._clock()
                if cursor is None:
                    fills, staged = [], await self._first_start(wallet, now, report)
                else:
                    fills, staged = await self._catch_up(wallet, cursor, now, report)
            except UpstreamError as exc:
                self._failed(wallet, str(exc), report)
                return []
            except Exception as exc:  # a bug for one wallet must not lose the others' fills
                log.exception("data_api: unexpected failure for %s", wallet)
                self._failed(wallet, f"{type(exc).__name__}: {exc}", report)
                return []
        self._staged[wallet] = staged
        self._backoff.pop(wallet, None)
        self._outage.discard(wallet)
        self.health.ok()
        return fills

    def _failed(self, wallet: str, error: str, report: PollReport) -> None:
        self.health.fail(error)
        report.failed.append(wallet)
        failures = self._backoff.get(wallet, (0, 0.0))[0] + 1
        delay = min(self.config.backoff_max, self.config.backoff_base * 2 ** (failures - 1))
        self._backoff[wallet] = (failures, time.monotonic() + delay)
        report.errors.append(error)
        # one summary line per poll (PollReport.log), not a thousand when the API is down
        log.debug("data_api: %s: no fills this cycle (%s); retry in %.1fs", wallet, error, delay)

    def _cursor(self, wallet: str) -> WalletCursor | None:
        if wallet not in self._committed:
            raw = self.store.get_cursor(cursor_name(wallet))
            cursor = None
            if raw is not None:
                try:
                    cursor = WalletCursor.load(raw)
                except (ValueError, KeyError, TypeError):
                    # unreadable: behave as a first start (copy nothing) rather than guess
                    log.error("data_api: unreadable cursor for %s, starting from now", wallet)
            self._committed[wallet] = cursor
        return self._committed[wallet]

    async def _first_start(self, wallet: str, now: float, report: PollReport) -> WalletCursor:
        start = int(now) - self.config.overlap
        keyed = to_fills(await self._fetch(wallet, start, report), detected_at=now)
        newest = max((int(fill.timestamp) for _, fill in keyed), default=0)
        log.info("data_api: first start for %s: %d recent fills not copied", wallet, len(keyed))
        return WalletCursor(max(int(now), newest), {k: int(f.timestamp) for k, f in keyed})

    async def _catch_up(self, wallet: str, cursor: WalletCursor, now: float,
                        report: PollReport) -> tuple[list[TargetFill], WalletCursor]:
        cutoff = now - self.config.max_age
        floor = int(cutoff - self.config.report_window)
        start = max(cursor.t - self.config.overlap, floor)
        if start == floor:
            report.notes.append(f"{wallet}: fills before {floor} not fetched (downtime)")
        keyed = to_fills(await self._fetch(wallet, start, report), detected_at=time.time())
        fills = []
        keys = dict(cursor.keys)
        for key, fill in keyed:
            if key in keys:
                continue
            keys[key] = int(fill.timestamp)
            if fill.timestamp < cutoff:
                report.drop(fill.timestamp)
                self.health.dropped_old += 1
            else:
                fills.append(fill)
        newest = max([cursor.t, *(int(f.timestamp) for _, f in keyed)])
        horizon = newest - self.config.overlap
        return fills, WalletCursor(newest, {k: t for k, t in keys.items() if t >= horizon})

    # --- fetching ----------------------------------------------------------------------------

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        self.requests += 1
        return await get_json(self._http, self.config.base_url.rstrip("/") + path, params,
                              limiter=self.limiter, timeout=self.config.timeout)

    async def _fetch(self, wallet: str, start: int, report: PollReport) -> list[ActivityRecord]:
        """Every valid TRADE record of `wallet` with timestamp >= start, oldest first."""
        if self.config.api_version == "v2":
            rows = await self._fetch_v2(wallet, start)
        else:
            rows = await self._fetch_v1(wallet, start)
        records = []
        for raw in rows:
            kind = not_a_trade(raw)
            if kind is not None:
                log.debug("data_api: %s row of %s is not a trade; ignored", kind, wallet)
                continue
            try:
                record = parse_record(raw)
                if record.proxy_wallet != wallet:
                    raise Rejected(f"proxyWallet: {record.proxy_wallet} is not the user asked for")
            except Rejected as exc:
                report.rejected += 1
                self.health.reject(str(exc))
                log.error("data_api: rejected a record of %s: %s", wallet, exc)
                continue
            if record.timestamp >= start:
                records.append(record)
        return records

    async def _fetch_v1(self, wallet: str, start: int) -> list[Any]:
        limit = min(self.config.page_limit, 500)
        rows: list[Any] = []
        offset = 0
        while True:
            page = await self._get("/activity", {
                "user": wallet, "type": "TRADE", "limit": limit, "offset": offset,
                "start": start, "sortBy": "TIMESTAMP", "sortDirection": "ASC"})
            if not isinstance(page, list):
                raise UpstreamError(f"/activity answered {type(page).__name__}, not a list")
            rows.extend(page)
            if len(page) < limit:
                return rows
            if offset + limit <= self.config.max_offset:
                offset += limit
                continue
            # the offset cap: restart from the newest second, dropping its (maybe partial) rows
            newest = max((_timestamp(r) for r in rows), default=start)
            if newest <= start:
                raise UpstreamError(f"too many fills in one second for {wallet} to page through")
            rows = [r for r in rows if _timestamp(r) < newest]
            start, offset = newest, 0

    async def _fetch_v2(self, wallet: str, start: int) -> list[Any]:
        first: dict[str, Any] = {"user": wallet, "type": "TRADE", "start": start,
                                 "limit": self.config.page_limit, "sort_direction": "ASC"}
        params = first
        rows: list[Any] = []
        while True:
            page = await self._get("/v2/activity", params)
            data = page.get("data") if isinstance(page, dict) else None
            pagination = page.get("pagination") if isinstance(page, dict) else None
            if not isinstance(data, list) or not isinstance(pagination, dict):
                raise UpstreamError("/v2/activity answered without data/pagination")
            rows.extend(data)
            cursor = pagination.get("next_cursor")
            if not pagination.get("has_more") or not cursor:
                return rows
            params = {**first, "cursor": cursor}


def _timestamp(raw: Any) -> int:
    """A raw row's timestamp for paging decisions only (the record itself is validated later)."""
    try:
        return int(raw.get("timestamp", 0))
    except (AttributeError, TypeError, ValueError):
        return 0
