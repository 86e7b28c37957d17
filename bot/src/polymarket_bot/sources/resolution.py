"""Noticing that a market we hold has resolved: Gamma, the chain, one de-duplicated signal.

Two independent witnesses, asked only about markets we hold an open position in:
- Gamma `/markets?condition_ids=…&closed=true`: `closed`, `umaResolutionStatus: resolved` and the
  final `outcomePrices` ("1"/"0") per `clobTokenIds`.
- the Conditional Tokens contract: `payoutDenominator(condition) > 0` once the oracle reported
  (the `ConditionResolution` event's state), and `payoutNumerators(condition, i)` per outcome.
Either one is enough; `Store.resolve` records the first and ignores the rest, so the position is
closed and its P&L booked exactly once whichever answers first. Gamma's final prices are used only
when every one of them is 0 or 1 (a market still trading can be `closed` for a moment without a
final answer).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from eth_utils import keccak

from polymarket_bot.execution.contracts import CONDITIONAL_TOKENS

from .base import UpstreamError
from .http import Http, get_json
from .jsonrpc import JsonRpc
from .markets import MarketDirectory

log = logging.getLogger(__name__)
_DENOMINATOR = "0x" + keccak(text="payoutDenominator(bytes32)")[:4].hex()
_NUMERATORS = "0x" + keccak(text="payoutNumerators(bytes32,uint256)")[:4].hex()


@dataclass(frozen=True)
class Resolution:
    condition_id: str
    payouts: dict[str, Decimal]  # outcome token → pUSD per share
    neg_risk: bool
    source: str  # "gamma" or "chain"
    question: str = ""


def gamma_resolution(row: dict[str, Any]) -> Resolution | None:
    """A Gamma market row's final answer, or None while it has none."""
    status = str(row.get("umaResolutionStatus") or "resolved").lower()
    if not row.get("closed") or status != "resolved":
        return None
    try:
        tokens = _list(row["clobTokenIds"])
        prices = [Decimal(p) for p in _list(row["outcomePrices"])]
    except (KeyError, ValueError, ArithmeticError):
        return None
    if len(tokens) != len(prices) or any(p not in (0, 1) for p in prices) or sum(prices) != 1:
        return None
    return Resolution(str(row["conditionId"]).lower(), dict(zip(tokens, prices, strict=True)),
                      bool(row.get("negRisk", False)), "gamma", str(row.get("question", "")))


def _list(value: Any) -> list[str]:
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("not a list")
    return [str(item) for item in items]


class ResolutionWatcher:
    """Asks the witnesses about the given markets; returns the resolutions they report."""

    def __init__(self, gamma_url: str, markets: MarketDirectory, *, rpc_url: str | None = None,
                 http: Http | None = None, timeout: float = 5.0) -> None:
        self.gamma_url = gamma_url.rstrip("/")
        self.markets = markets
        self.timeout = timeout
        self._http = http or Http(None, connections=4)
        self._rpc = JsonRpc(rpc_url, self._http, timeout) if rpc_url else None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def poll(self, conditions: list[str], tokens: dict[str, list[str]]) -> list[Resolution]:
        """Resolutions of `conditions` (with the tokens we hold in each, for the chain's index
        → token mapping). A witness that fails is logged and skipped: the other may answer."""
        if not conditions:
            return []
        found: dict[str, Resolution] = {}
        try:
            for resolution in await self._gamma(conditions):
                found.setdefault(resolution.condition_id, resolution)
        except UpstreamError as exc:
            log.warning("resolution: Gamma unavailable (%s); asking the chain", exc)
        if self._rpc is not None:
            for condition in conditions:
                if condition in found:
                    continue
                try:
                    resolution = await self._chain(condition, tokens.get(condition, []))
                except UpstreamError as exc:
                    log.warning("resolution: chain read of %s failed: %s", condition, exc)
                    continue
                if resolution is not None:
                    found[condition] = resolution
        return list(found.values())

    async def _gamma(self, conditions: list[str]) -> list[Resolution]:
        # repeated `condition_ids`, as Gamma takes a list (a mapping of params cannot say it)
        query = urlencode([("closed", "true"), *(("condition_ids", c) for c in conditions)])
        rows = await get_json(self._http, f"{self.gamma_url}/markets?{query}",
                              timeout=self.timeout)
        if not isinstance(rows, list):
            raise UpstreamError(f"Gamma /markets answered {type(rows).__name__}, not a list")
        wanted = set(conditions)
        resolved = [gamma_resolution(row) for row in rows if isinstance(row, dict)]
        return [r for r in resolved if r is not None and r.condition_id in wanted]

    async def _chain(self, condition: str, tokens: list[str]) -> Resolution | None:
        assert self._rpc is not None
        word = condition.removeprefix("0x").rjust(64, "0")
        denominator = int(await self._rpc.call("eth_call", [
            {"to": CONDITIONAL_TOKENS, "data": _DENOMINATOR + word}, "latest"]), 16)
        if denominator == 0:
            return None
        infos = [await self.markets.info(token) for token in tokens]
        if not infos or any(info is None for info in infos):
            return None  # cannot map outcome indexes to our tokens yet
        payouts: dict[str, Decimal] = {}
        for info in infos:
            assert info is not None
            numerator = int(await self._rpc.call("eth_call", [
                {"to": CONDITIONAL_TOKENS,
                 "data": _NUMERATORS + word + f"{info.outcome_index:064x}"}, "latest"]), 16)
            payouts[info.token_id] = Decimal(numerator) / Decimal(denominator)
        return Resolution(condition, payouts, infos[0].neg_risk, "chain", infos[0].question)
