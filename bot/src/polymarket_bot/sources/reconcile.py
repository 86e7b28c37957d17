"""Periodic comparison of what the targets hold (`/positions`) with what we hold from copying them.

Detection can miss a fill (an outage longer than max-age, a skipped copy that should not have been
skipped); the positions are the ground truth that shows it. For every token we hold (or held) from
a target:

- `target_exited`: we still hold shares, the target holds none;
- `we_exited`: we hold none, the target still does;
- `ratio_changed`: our size / their size moved more than `tolerance` (relative) from the ratio first
  seen for that token — a sell or buy of theirs that we did not mirror.

Tokens the target holds that we never copied are not drift: policy skips many fills on purpose.

`confidence(wallet)` scores a wallet 0-1 from the same record, for wallets without a configured
score:  r = Σ(cashPnl + realizedPnl) / Σ initialValue  over its open positions, and
score = 1 / (1 + e^(-4·r)).  Break-even is 0.5; +25 % → 0.73; +50 % → 0.88; -25 % → 0.27. With
fewer than `min_positions` positions or no cost basis the score is None (not enough evidence).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import aiohttp
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from .base import Health, UpstreamError, checksummed
from .http import Http, get_json
from .ratelimit import TokenBucket
from .records import describe

log = logging.getLogger(__name__)

Holdings = Callable[[str], Mapping[str, Decimal] | Awaitable[Mapping[str, Decimal]]]
V1_MAX_OFFSET = 10_000


class PositionRecord(BaseModel):
    """One row of `/positions` (v1 camelCase) or `/v2/positions` (snake_case)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    token_id: str = Field(validation_alias=AliasChoices("asset", "token_id"))
    size: Decimal = Field(ge=0, validation_alias=AliasChoices("size", "current_size"))
    initial_value: Decimal = Field(default=Decimal(0), validation_alias=AliasChoices(
        "initialValue", "entry_cost_usdc"))
    cash_pnl: Decimal = Field(default=Decimal(0), validation_alias=AliasChoices(
        "cashPnl", "unrealized_pnl"))
    realized_pnl: Decimal = Field(default=Decimal(0), validation_alias=AliasChoices(
        "realizedPnl", "realized_pnl"))


@dataclass(frozen=True)
class Drift:
    wallet: str
    token_id: str
    target_size: Decimal
    our_size: Decimal
    ratio: Decimal | None  # our size / target size; None when the target holds nothing
    reason: Literal["target_exited", "we_exited", "ratio_changed"]


def confidence_score(positions: Sequence[PositionRecord], min_positions: int = 3) -> float | None:
    """The documented 0-1 score (module docstring) from a wallet's open positions."""
    if len(positions) < min_positions:
        return None
    basis = sum((p.initial_value for p in positions), Decimal(0))
    if basis <= 0:
        return None
    pnl = sum((p.cash_pnl + p.realized_pnl for p in positions), Decimal(0))
    ratio = float(pnl / basis)
    return 1 / (1 + math.exp(max(-60.0, min(60.0, -4 * ratio))))


class Reconciler:
    def __init__(self, base_url: str, holdings: Holdings, *,
                 session: aiohttp.ClientSession | None = None,
                 limiter: TokenBucket | None = None,
                 api_version: Literal["v1", "v2"] = "v1", interval: float = 300.0,
                 tolerance: Decimal = Decimal("0.25"), timeout: float = 5.0,
                 concurrency: int = 4, confidence_ttl: float = 3600.0,
                 min_positions: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.holdings = holdings
        # /positions allows 150 requests per 10 s; stay well under it by default
        self.limiter = limiter or TokenBucket(100, 10.0)
        self.api_version = api_version
        self.interval = interval
        self.tolerance = tolerance
        self.timeout = timeout
        self.confidence_ttl = confidence_ttl
        self.min_positions = min_positions
        self._http = Http(session, connections=concurrency)
        self._sem = asyncio.Semaphore(concurrency)
        self._baseline: dict[tuple[str, str], Decimal] = {}
        self._scores: dict[str, tuple[float, float | None]] = {}  # wallet -> (expires, score)
        self._last_run: float | None = None
        self.health = Health()
        self.last_report: list[Drift] = []

    async def aclose(self) -> None:
        await self._http.aclose()

    def due(self) -> bool:
        return self._last_run is None or time.monotonic() - self._last_run >= self.interval

    async def reconcile(self, wallets: Sequence[str]) -> list[Drift]:
        """Drift of every wallet whose positions could be read (failures are logged, skipped)."""
        self._last_run = time.monotonic()
        results = await asyncio.gather(*(self._wallet(w) for w in checksummed(wallets)))
        report = [drift for batch in results for drift in batch]
        for drift in report:
            log.warning("drift: %s token %s: target %s, ours %s (%s)", drift.wallet,
                        drift.token_id, drift.target_size, drift.our_size, drift.reason)
        self.last_report = report
        return report

    async def confidence(self, wallet: str) -> float | None:
        """The wallet's derived score (module docstring), cached; None without enough evidence."""
        entry = self._scores.get(wallet.lower())
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        try:
            positions = await self.positions(wallet)
        except UpstreamError as exc:
            self.health.fail(str(exc))
            log.warning("confidence: positions of %s unavailable (%s)", wallet, exc)
            return None
        score = confidence_score(list(positions.values()), self.min_positions)
        self._scores[wallet.lower()] = (time.monotonic() + self.confidence_ttl, score)
        return score

    async def _wallet(self, wallet: str) -> list[Drift]:
        try:
            theirs = await self.positions(wallet)
            held = self.holdings(wallet)
            ours = await held if inspect.isawaitable(held) else held
        except UpstreamError as exc:
            self.health.fail(str(exc))
            log.warning("reconcile: positions of %s unavailable (%s)", wallet, exc)
            return []
        drifts = []
        for token_id, our_size in ours.items():
            record = theirs.get(token_id)
            target_size = record.size if record is not None else Decimal(0)
            drift = self._compare(wallet, token_id, target_size, Decimal(our_size))
            if drift is not None:
                drifts.append(drift)
        return drifts

    def _compare(self, wallet: str, token_id: str, target: Decimal,
                 ours: Decimal) -> Drift | None:
        if ours <= 0 and target <= 0:
            self._baseline.pop((wallet, token_id), None)
            return None
        if target <= 0:
            return Drift(wallet, token_id, target, ours, None, "target_exited")
        ratio = ours / target
        if ours <= 0:
            return Drift(wallet, token_id, target, ours, ratio, "we_exited")
        baseline = self._baseline.setdefault((wallet, token_id), ratio)
        if abs(ratio - baseline) > self.tolerance * baseline:
            return Drift(wallet, token_id, target, ours, ratio, "ratio_changed")
        return None

    async def positions(self, wallet: str) -> dict[str, PositionRecord]:
        """The wallet's open positions by token (raises UpstreamError when unreadable)."""
        async with self._sem:
            rows = await (self._rows_v2(wallet) if self.api_version == "v2"
                          else self._rows_v1(wallet))
        out: dict[str, PositionRecord] = {}
        for raw in rows:
            try:
                record = PositionRecord.model_validate(raw)
            except ValidationError as exc:
                # a drift report on a partial picture would be wrong: the whole read fails
                raise UpstreamError(f"position record malformed: {describe(exc)}") from None
            out[record.token_id] = record
        self.health.ok()
        return out

    async def _get(self, path: str, params: dict[str, Any]) -> Any:
        return await get_json(self._http, self.base_url + path, params, limiter=self.limiter,
                              timeout=self.timeout)

    async def _rows_v1(self, wallet: str) -> list[Any]:
        rows: list[Any] = []
        offset, limit = 0, 500
        while True:
            page = await self._get("/positions", {"user": wallet, "sizeThreshold": 0,
                                                  "limit": limit, "offset": offset})
            if not isinstance(page, list):
                raise UpstreamError(f"/positions answered {type(page).__name__}, not a list")
            rows.extend(page)
            if len(page) < limit or offset + limit > V1_MAX_OFFSET:
                return rows
            offset += limit

    async def _rows_v2(self, wallet: str) -> list[Any]:
        first: dict[str, Any] = {"user": wallet, "status": "OPEN", "limit": 1000}
        params, rows = first, []
        while True:
            page = await self._get("/v2/positions", params)
            data = page.get("data") if isinstance(page, dict) else None
            pagination = page.get("pagination") if isinstance(page, dict) else None
            if not isinstance(data, list) or not isinstance(pagination, dict):
                raise UpstreamError("/v2/positions answered without data/pagination")
            rows.extend(data)
            if not pagination.get("has_more") or not pagination.get("next_cursor"):
                return rows
            params = {**first, "cursor": pagination["next_cursor"]}
