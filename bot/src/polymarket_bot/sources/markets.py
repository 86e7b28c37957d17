"""What a token is: its market, outcome, tick size, minimum size and exchange, cached.

Gamma's `/markets?clob_token_ids=` is the primary answer (open markets, then `closed=true`, which
the API needs to show closed ones). Its `outcomes` and `clobTokenIds` are JSON *strings*. When
Gamma fails, the CLOB answers too: `/book` carries the condition id, tick size, minimum size and
neg-risk flag, `/markets/{condition_id}` the outcome names. Tick sizes change during a market's
life (they shrink near 0 and 1), so entries expire after `ttl` and `invalidate()` drops one at once
when the CLOB rejects an order for its tick.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import aiohttp
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from polymarket_bot.models import MarketInfo, TargetFill

from .base import Health, UpstreamError
from .http import Http, get_json
from .ratelimit import TokenBucket
from .records import describe

log = logging.getLogger(__name__)


def _json_list(value: Any) -> list[str]:
    """Gamma's JSON-encoded string lists (`"[\\"Yes\\", \\"No\\"]"`); a real list is fine too."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise ValueError("not a list of strings")
    return [str(v) for v in value]


class GammaMarket(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    condition_id: str = Field(validation_alias=AliasChoices("conditionId", "condition_id"))
    slug: str = ""
    question: str = ""
    outcomes: list[str]
    token_ids: list[str] = Field(validation_alias=AliasChoices("clobTokenIds", "clob_token_ids"))
    tick_size: Decimal = Field(gt=0, lt=1, validation_alias=AliasChoices(
        "orderPriceMinTickSize", "order_price_min_tick_size"))
    min_order_size: Decimal = Field(ge=0, validation_alias=AliasChoices(
        "orderMinSize", "order_min_size"))
    neg_risk: bool = Field(default=False, validation_alias=AliasChoices("negRisk", "neg_risk"))
    active: bool = True
    closed: bool = False

    @field_validator("outcomes", "token_ids", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return _json_list(value)

    def info(self, token_id: str) -> MarketInfo | None:
        if token_id not in self.token_ids or len(self.outcomes) != len(self.token_ids):
            return None
        index = self.token_ids.index(token_id)
        return MarketInfo(token_id=token_id, condition_id=self.condition_id.lower(),
                          outcome=self.outcomes[index], outcome_index=index, slug=self.slug,
                          question=self.question, tick_size=self.tick_size,
                          min_order_size=self.min_order_size, neg_risk=self.neg_risk,
                          active=self.active, closed=self.closed)


class MarketDirectory:
    def __init__(self, gamma_url: str, clob_url: str, *,
                 session: aiohttp.ClientSession | None = None,
                 ttl: float = 300.0, negative_ttl: float = 30.0, timeout: float = 5.0,
                 limiter: TokenBucket | None = None) -> None:
        self.gamma_url = gamma_url.rstrip("/")
        self.clob_url = clob_url.rstrip("/")
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.timeout = timeout
        self.limiter = limiter
        self._http = Http(session, connections=8)
        self._cache: dict[str, tuple[float, MarketInfo | None]] = {}  # token -> (expires, info)
        self._inflight: dict[str, asyncio.Task[MarketInfo | None]] = {}
        self.health = Health()
        self.lookups = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    def invalidate(self, token_id: str) -> None:
        """Forget a token (the CLOB said its tick changed): the next `info` asks again."""
        self._cache.pop(token_id, None)

    def cached(self, token_id: str) -> MarketInfo | None:
        entry = self._cache.get(token_id)
        return entry[1] if entry and entry[0] > time.monotonic() else None

    async def info(self, token_id: str) -> MarketInfo | None:
        """The token's market, or None if neither Gamma nor the CLOB can say (not cached)."""
        entry = self._cache.get(token_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        task = self._inflight.get(token_id)
        if task is None:  # concurrent callers share one lookup
            task = asyncio.ensure_future(self._lookup(token_id))
            self._inflight[token_id] = task
            task.add_done_callback(lambda _: self._inflight.pop(token_id, None))
        return await asyncio.shield(task)

    async def _lookup(self, token_id: str) -> MarketInfo | None:
        self.lookups += 1
        try:
            info = await self._from_gamma(token_id)
        except UpstreamError as exc:
            self.health.fail(f"gamma: {exc}")
            log.warning("markets: Gamma failed for %s (%s); asking the CLOB", token_id, exc)
            try:
                info = await self._from_clob(token_id)
            except UpstreamError as clob_exc:
                self.health.fail(f"clob: {clob_exc}")
                log.warning("markets: CLOB failed for %s too (%s)", token_id, clob_exc)
                return None  # not cached: the next call tries again
        self.health.ok()
        ttl = self.ttl if info is not None else self.negative_ttl
        self._cache[token_id] = (time.monotonic() + ttl, info)
        return info

    async def _get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return await get_json(self._http, url, params, limiter=self.limiter,
                              timeout=self.timeout)

    async def _from_gamma(self, token_id: str) -> MarketInfo | None:
        queries = ({"clob_token_ids": token_id}, {"clob_token_ids": token_id, "closed": "true"})
        for params in queries:
            rows = await self._get(f"{self.gamma_url}/markets", params)
            if not isinstance(rows, list):
                raise UpstreamError(f"Gamma /markets answered {type(rows).__name__}, not a list")
            for row in rows:
                try:
                    market = GammaMarket.model_validate(row)
                except ValidationError as exc:
                    raise UpstreamError(f"Gamma market malformed: {describe(exc)}") from None
                info = market.info(token_id)
                if info is not None:
                    return info
        return None

    async def _from_clob(self, token_id: str) -> MarketInfo | None:
        try:
            book = await self._get(f"{self.clob_url}/book", {"token_id": token_id})
        except UpstreamError as exc:
            if exc.status == 404:
                return None
            raise
        try:
            condition_id = str(book["market"])
            tick = Decimal(str(book["tick_size"]))
            min_size = Decimal(str(book["min_order_size"]))
            neg_risk = bool(book.get("neg_risk", False))
            market = await self._get(f"{self.clob_url}/markets/{condition_id}")
            tokens = market["tokens"]
            index = next(i for i, t in enumerate(tokens) if str(t["token_id"]) == token_id)
            return MarketInfo(
                token_id=token_id, condition_id=condition_id.lower(),
                outcome=str(tokens[index]["outcome"]), outcome_index=index,
                slug=str(market.get("market_slug", "")), question=str(market.get("question", "")),
                tick_size=tick, min_order_size=min_size, neg_risk=neg_risk,
                active=bool(market.get("active", True)), closed=bool(market.get("closed", False)))
        except (KeyError, TypeError, ValueError, ArithmeticError, StopIteration,
                ValidationError) as exc:
            raise UpstreamError(f"CLOB market data malformed: {type(exc).__name__}: {exc}") \
                from None


async def enrich(fills: Iterable[TargetFill], directory: MarketDirectory) -> list[TargetFill]:
    """Fills with `condition_id`/`outcome` filled in where the source did not know them (chain)."""
    fills = list(fills)
    tokens = {f.token_id for f in fills if f.condition_id is None or f.outcome is None}
    if not tokens:
        return fills
    infos = dict(zip(tokens, await asyncio.gather(*(directory.info(t) for t in tokens)),
                     strict=True))
    out = []
    for fill in fills:
        info = infos.get(fill.token_id)
        if info is not None and (fill.condition_id is None or fill.outcome is None):
            fill = fill.model_copy(update={"condition_id": fill.condition_id or info.condition_id,
                                           "outcome": fill.outcome or info.outcome})
        out.append(fill)
    return out
